#pragma once
// SHA-256 over bytes fed in pieces (OpenSSL's libcrypto), and over a file read in
// pieces: what backups and S3 uploads of files need without holding them in memory.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "gallery/common/error.hpp"

struct evp_md_ctx_st;

namespace gallery {

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void add(std::string_view bytes);
    // The digest of everything added, lower-case hex. Ends the hash: call once.
    std::string hex();

  private:
    struct Free {
        void operator()(evp_md_ctx_st* context) const;
    };
    std::unique_ptr<evp_md_ctx_st, Free> m_context;
};

// The SHA-256 of the file's bytes, lower-case hex. Errors: io.
Result<std::string> sha256_file_hex(const std::filesystem::path& file);

}  // namespace gallery
