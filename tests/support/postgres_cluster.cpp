#include "support/postgres_cluster.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "gallery/db/connection.hpp"
#include "gallery/db/statement.hpp"
#include "support/process.hpp"

namespace gallery::testing {

PostgresCluster::PostgresCluster()
    : m_state(std::filesystem::temp_directory_path() /
              ("gallery-cluster-" + std::to_string(::getpid()) + "-" +
               std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {
    run("start");
    std::ifstream in(m_state);
    std::getline(in, m_socket);
}

PostgresCluster::~PostgresCluster() {
    try {
        run("stop");
    } catch (...) {
        // A cluster that will not stop is left to the machine's temporary folder.
    }
}

void PostgresCluster::run(const std::string& action) {
    const auto result = run_process(
        {"/bin/bash", std::string(GALLERY_SOURCE_DIR) + "/tests/support/postgres_cluster.sh",
         action, m_state.string()});
    if (result.exit_code != 0) {
        throw std::runtime_error("postgres_cluster.sh " + action + ": " + result.out + result.err);
    }
}

std::string PostgresCluster::url(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + m_socket + "&user=gallery";
}

std::string PostgresCluster::create_database(const std::string& name) {
    db::Connection admin({.postgresql_url = url("postgres")});
    db::execute_script(admin, "CREATE DATABASE " + name);
    return url(name);
}

void PostgresCluster::pause() {
    run("pause");
}

void PostgresCluster::resume() {
    run("resume");
}

}  // namespace gallery::testing
