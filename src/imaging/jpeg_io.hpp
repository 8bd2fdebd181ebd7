#pragma once
// What every libjpeg caller here shares (the requantiser, the JPEG thumbnailer):
// errors that jump back instead of exiting, a progress monitor that bounds scans and
// time, and output appended to a std::string.

// jpeglib.h needs FILE and size_t declared first.
#include <chrono>
#include <csetjmp>
#include <cstdio>
#include <string>

#include <jpeglib.h>

namespace gallery::imaging {

// libjpeg reports fatal errors through error_exit, which must not return: it jumps
// back to the setjmp of the function that called into libjpeg. Those functions
// create no C++ objects with destructors between setjmp and the jump.
struct ErrorManager {
    jpeg_error_mgr base{};
    std::jmp_buf jump{};
    char message[JMSG_LENGTH_MAX] = {};
};

// error_exit; also called for the one warning that is fatal here (below).
[[noreturn]] void jump_on_error(j_common_ptr info);

// Abandons the read from inside libjpeg with `why` as the message.
[[noreturn]] void give_up(j_common_ptr info, const char* why);

// libjpeg calls this at every scan and row while it reads: a progressive JPEG of
// thousands of (empty) scans is cut off at k_max_jpeg_scans, and any read at the
// deadline (libjpeg-turbo's own tools bound scans with a progress monitor too).
struct ReadProgress {
    jpeg_progress_mgr base{};
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};
void on_progress(j_common_ptr info);

// Error handling as above; warnings are ignored (as libvips does at
// fail_on=truncated) except the end of the data arriving early: a truncated upload is
// refused, not stored half grey.
void install(ErrorManager& errors);

// libjpeg's output appended to a string. (jpeg_mem_dest's buffer cannot be freed
// safely after an error part-way: it hands the caller a pointer it may have freed.)
struct StringDestination {
    jpeg_destination_mgr base{};
    std::string* out = nullptr;
    JOCTET buffer[64 * 1024] = {};
};

// Makes `destination` (whose `out` is set) the writer's destination.
void attach(jpeg_compress_struct& target, StringDestination& destination);

std::string libjpeg_message(const ErrorManager& errors);

}  // namespace gallery::imaging
