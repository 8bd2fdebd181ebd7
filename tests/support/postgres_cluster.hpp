#pragma once
// A PostgreSQL 15 cluster of the test's own (tests/support/postgres_cluster.sh), for
// tests that stop and restart the server under gallery.

#include <filesystem>
#include <string>

namespace gallery::testing {

class PostgresCluster {
  public:
    // initdb in a temporary folder and start; throws with the script's output on failure.
    PostgresCluster();
    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    // Creates the database `name` and returns its URL.
    std::string create_database(const std::string& name);
    // Stops the server, keeping its data; resume() starts it again.
    void pause();
    void resume();

  private:
    void run(const std::string& action);
    std::string url(const std::string& database) const;

    std::filesystem::path m_state;
    std::string m_socket;
};

}  // namespace gallery::testing
