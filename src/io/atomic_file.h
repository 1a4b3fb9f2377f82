#pragma once
// Writes a file so that a crash at any moment leaves either the old file or the new
// one, never a mix: a temporary file in the same folder, fsync, rename over the
// target, fsync the folder. Any failure (unwritable folder, full disk) throws Error
// naming the path, removes the temporary file and leaves the old file untouched.
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace axon {

// `write` puts the content into the open temporary file.
void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write);
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace axon
