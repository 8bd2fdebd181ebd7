#pragma once
// File access that stays inside the media root: no symlink is followed and no path
// leaves the root, whatever the media root holds (a symlink to /etc, to the
// database's folder). The root itself may be a symlink: that is the operator's choice.

#include <sys/types.h>

#include <string_view>

#include "storage/local/file_descriptor.hpp"

namespace gallery::storage {

// Opens `relative` ('/'-separated, already a checked key or a folder of one)
// beneath the folder `root` with `flags` (O_CLOEXEC and O_NOFOLLOW added).
// Invalid descriptor and errno on failure: ELOOP when a symlink is in the way,
// ENOENT/ENOTDIR when something is missing.
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it (5.6+),
// else one O_NOFOLLOW openat per path segment.
FileDescriptor open_beneath(int root, std::string_view relative, int flags, mode_t mode = 0);

// Opens the folder `relative` beneath `root` (O_RDONLY | O_DIRECTORY, so it can be
// fsync'ed), creating missing folders one mkdirat at a time when `create` is set.
// "" is the root itself.
FileDescriptor open_folder_beneath(int root, std::string_view relative, bool create);

}  // namespace gallery::storage
