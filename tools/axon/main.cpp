// axon: train, evaluate, predict, summarise, serve, quantize and export models from the command line.
// Exit codes: 0 success, 2 usage error, 1 any other failure; messages go to stderr.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "axon/axon.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"axon: build, train, evaluate and serve neural networks", "axon"};
  app.set_version_flag("--version", [] {
    const std::string kernels = axon::blas_kernels();
    return std::string("axon ") + axon::version() + (kernels.empty() ? "" : "\nblas: OpenBLAS " + kernels + " kernels");
  });
  app.require_subcommand(1);
  axon::cli::add_train(app);
  axon::cli::add_evaluate(app);
  axon::cli::add_predict(app);
  axon::cli::add_summary(app);
  axon::cli::add_serve(app);
  axon::cli::add_quantize(app);
  axon::cli::add_export(app);
  axon::cli::add_generate(app);
  // Under mpirun, train runs data-parallel over the ranks (see `axon train --help`).
  std::shared_ptr<axon::Communicator> ranks;
  try {
    if (axon::launched_by_mpirun()) ranks = axon::mpi_world();
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e, std::cout, std::cerr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "axon: %s%s\n", ranks ? ("rank " + std::to_string(ranks->rank()) + ": ").c_str() : "",
                 e.what());
    // The other ranks may be waiting for this one in a collective: end them all now.
    if (ranks && ranks->size() > 1) ranks->abort(1);
    return 1;
  }
  return 0;
}
