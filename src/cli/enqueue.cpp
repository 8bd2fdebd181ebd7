// gallery enqueue: queues storage keys for deletion by hand (arguments or stdin).
// All-or-nothing: one invalid key and nothing is queued.

#include <iostream>

#include "cli/commands.hpp"
#include "gallery/catalog/catalog.hpp"
#include "gallery/db/guard.hpp"
#include "gallery/db/transaction.hpp"
#include "gallery/queue/queue.hpp"
#include "gallery/storage/factory.hpp"

namespace gallery::cli {

namespace {

struct EnqueueOptions {
    std::vector<std::string> keys;
    std::string client_id;
    bool json = false;
};

constexpr std::size_t k_max_stdin_line = 4096;

// "-" among the keys means: read one key per line from standard input.
Result<std::vector<std::string>> collect_keys(const std::vector<std::string>& arguments) {
    std::vector<std::string> keys;
    for (const std::string& argument : arguments) {
        if (argument != "-") {
            keys.push_back(argument);
            continue;
        }
        std::string line;
        while (std::getline(std::cin, line)) {
            if (line.ends_with('\r')) line.pop_back();
            if (line.empty()) continue;
            if (line.size() > k_max_stdin_line) return fail(ErrorKind::invalid_input, "a line on standard input is longer than 4096 bytes");
            keys.push_back(std::move(line));
        }
    }
    return keys;
}

int run_enqueue(const Globals& globals, const EnqueueOptions& options) {
    const config::Config config = load_config(globals);
    db::Connection connection = open_database(config);
    const std::unique_ptr<storage::Storage> storage = storage::open_storage(config);

    auto keys = collect_keys(options.keys);
    if (!keys) {
        std::cerr << "gallery: " << keys.error().message << "\n";
        return exit_code::usage;
    }
    if (keys->empty()) {
        std::cerr << "gallery: no keys given (pass keys as arguments, or - to read them from standard input)\n";
        return exit_code::usage;
    }

    std::vector<std::string> problems;
    for (const std::string& key : *keys) {
        if (auto ok = storage->check_key(key); !ok) problems.push_back(ok.error().message);
    }
    auto in_use = catalog::keys_in_use(connection, *keys);
    if (!in_use) {
        std::cerr << "gallery: " << in_use.error().message << "\n";
        return exit_code::failure;
    }
    for (std::size_t i = 0; i < keys->size(); ++i) {
        if ((*in_use)[i]) problems.push_back("'" + (*keys)[i] + "' is still referenced by an image: delete the image instead");
    }
    if (!problems.empty()) {
        for (const std::string& problem : problems) std::cerr << "gallery: " << problem << "\n";
        std::cerr << "gallery: nothing was queued (" << problems.size() << " of " << keys->size() << " keys refused)\n";
        return exit_code::usage;
    }

    const UnixMicros now = now_micros();
    auto counts = db::guard("enqueue", [&] {
        db::WriteTransaction tx(connection);
        std::size_t queued = 0;
        for (const std::string& key : *keys) {
            auto inserted = queue::enqueue(connection, {key, options.client_id, std::nullopt}, now);
            if (!inserted) throw std::runtime_error(inserted.error().message);
            queued += *inserted ? 1 : 0;
        }
        tx.commit();
        return queued;
    });
    if (!counts) {
        std::cerr << "gallery: " << counts.error().message << "\n";
        return exit_code::failure;
    }
    const std::size_t already = keys->size() - *counts;
    if (options.json) {
        print_json({{"queued", *counts}, {"already_pending", already}});
    } else {
        std::cout << "queued " << *counts << " key" << (*counts == 1 ? "" : "s") << " (" << already
                  << " already pending)\n";
    }
    return exit_code::ok;
}

}  // namespace

void add_enqueue_command(CLI::App& app, Globals& globals, Command& selected) {
    auto options = std::make_shared<EnqueueOptions>();
    CLI::App* command = app.add_subcommand("enqueue", "Queue storage keys for deletion by hand");
    command->add_option("keys", options->keys, "Storage keys (e.g. images/<file>), or - to read one per line from stdin")
        ->required();
    command->add_option("--client-id", options->client_id, "Client the keys belonged to (shown in stats and admin)");
    command->add_flag("--json", options->json, "Print one JSON object");
    command->callback([&globals, &selected, options] { selected = [&globals, options] { return run_enqueue(globals, *options); }; });
}

}  // namespace gallery::cli
