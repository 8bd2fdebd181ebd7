#include "gallery/common/sha256.hpp"

#include <openssl/evp.h>

#include <cstdio>

#include "gallery/common/text.hpp"

namespace gallery {

void Sha256::Free::operator()(evp_md_ctx_st* context) const {
    EVP_MD_CTX_free(context);
}

Sha256::Sha256() : m_context(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(m_context.get(), EVP_sha256(), nullptr);
}

Sha256::~Sha256() = default;

void Sha256::add(std::string_view bytes) {
    EVP_DigestUpdate(m_context.get(), bytes.data(), bytes.size());
}

std::string Sha256::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(m_context.get(), digest, &length);
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

Result<std::string> sha256_file_hex(const std::filesystem::path& file) {
    struct Close {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Close> in(std::fopen(file.c_str(), "rb"));
    if (!in) return fail(ErrorKind::io, "cannot read " + file.string());
    Sha256 hash;
    std::string buffer(256 * 1024, '\0');
    while (const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get()))
        hash.add(std::string_view(buffer.data(), got));
    if (std::ferror(in.get())) return fail(ErrorKind::io, "cannot read " + file.string());
    return hash.hex();
}

}  // namespace gallery
