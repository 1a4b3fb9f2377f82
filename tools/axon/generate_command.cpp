// axon generate: text from a language model that holds its TextVectorization (see
// axon/generation.h and axon/text.h), with a key/value cache or carried states.
#include <chrono>
#include <cstdio>
#include <memory>

#include "axon/axon.h"
#include "commands.h"

namespace axon::cli {

void add_generate(CLI::App& app) {
  struct Options {
    std::string model, prompt;
    GenerateOptions generate;
    bool no_cache = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a text with a language model (one with a TextVectorization)");
  cmd->add_option("--model", options->model, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--prompt", options->prompt, "The text to continue")->required();
  cmd->add_option("--tokens", options->generate.tokens, "How many tokens to add")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--temperature", options->generate.temperature, "Sampling temperature; 0 always takes the likeliest")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--top-k", options->generate.top_k, "Sample among the k likeliest tokens only (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", options->generate.seed, "Seed of the sampling")->capture_default_str();
  cmd->add_flag("--no-cache", options->no_cache, "Run the whole context for every token (for comparison)");
  cmd->callback([options] {
    std::shared_ptr<Model> model = load_model(options->model);
    std::shared_ptr<TextVectorization> text = text_vectorization_of(*model);
    if (!text) fail("generate: ", options->model, " holds no TextVectorization layer to read the prompt with");
    const std::vector<int64_t> prompt = text->ids(options->prompt);
    if (prompt.empty()) fail("generate: the prompt has no tokens");
    options->generate.cache = !options->no_cache;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int64_t> ids = generate(*model, prompt, options->generate);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s\n", text->decode(ids).c_str());
    std::fprintf(stderr, "%lld tokens in %.2f s: %.1f tokens/s (%s)\n", static_cast<long long>(options->generate.tokens),
                 seconds, static_cast<double>(options->generate.tokens) / seconds,
                 options->no_cache ? "no cache" : "cached");
  });
}

}  // namespace axon::cli
