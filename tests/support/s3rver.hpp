#pragma once
// A real S3 server on loopback for one test: @20minutes/s3rver (it recomputes SigV4
// signatures), installed by scripts/setup into tests/s3rver, with its own folder
// and a free port, and the bucket "gallery". Stopped when the object goes away.

#include <sys/types.h>

#include <string>

#include "gallery/storage/s3_storage.hpp"
#include "support/temp_dir.hpp"

namespace gallery::testing {

class S3rver {
  public:
    S3rver();
    ~S3rver();
    S3rver(const S3rver&) = delete;
    S3rver& operator=(const S3rver&) = delete;

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int port() const { return m_port; }

    // Options for the bucket "gallery" with s3rver's credentials (S3RVER / S3RVER).
    storage::S3Options options() const;

  private:
    TempDir m_dir;
    pid_t m_pid = -1;
    int m_port = 0;
};

}  // namespace gallery::testing
