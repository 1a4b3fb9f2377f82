#pragma once
// The subcommands of the axon CLI; each registers its options and callback on the app.
#include <CLI/CLI.hpp>

namespace axon::cli {

void add_train(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_predict(CLI::App& app);
void add_summary(CLI::App& app);
void add_serve(CLI::App& app);
void add_quantize(CLI::App& app);
void add_export(CLI::App& app);
void add_generate(CLI::App& app);

}  // namespace axon::cli
