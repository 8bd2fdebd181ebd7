#pragma once
// A failed property in a fuzz target: print what and abort, which libFuzzer (and the
// replay driver's caller) reports as a crash with the input saved.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gallery::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz property failed: %s\n", what.c_str());
    std::abort();
}

inline void check(bool condition, const std::string& what) {
    if (!condition) fail(what);
}

}  // namespace gallery::fuzz
