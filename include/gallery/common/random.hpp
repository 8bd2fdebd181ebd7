#pragma once
// Randomness from the operating system's cryptographic source (OpenSSL RAND_bytes):
// for keys and stored names that must not be guessable.

#include <string>

namespace gallery {

// `bytes` random bytes as lowercase hex. Throws std::runtime_error if the source fails.
std::string random_hex(std::size_t bytes);

// A random (version 4) UUID: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string uuid4();

}  // namespace gallery
