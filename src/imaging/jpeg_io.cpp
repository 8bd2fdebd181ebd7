#include "imaging/jpeg_io.hpp"

#include <jerror.h>

#include "imaging/jpeg_requantize.hpp"

namespace gallery::imaging {

[[noreturn]] void jump_on_error(j_common_ptr info) {
    auto* errors = reinterpret_cast<ErrorManager*>(info->err);
    (*info->err->format_message)(info, errors->message);
    std::longjmp(errors->jump, 1);
}

[[noreturn]] void give_up(j_common_ptr info, const char* why) {
    auto* errors = reinterpret_cast<ErrorManager*>(info->err);
    std::snprintf(errors->message, sizeof errors->message, "%s", why);
    std::longjmp(errors->jump, 1);
}

void on_progress(j_common_ptr info) {
    const auto* progress = reinterpret_cast<const ReadProgress*>(info->progress);
    const auto* source = reinterpret_cast<const jpeg_decompress_struct*>(info);
    if (source->input_scan_number > static_cast<int>(k_max_jpeg_scans))
        give_up(info, "it has too many scans");
    if (std::chrono::steady_clock::now() > progress->deadline)
        give_up(info, "it took longer than the re-encoding time limit");
}

namespace {

void on_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) jump_on_error(info);
}

}  // namespace

void install(ErrorManager& errors) {
    jpeg_std_error(&errors.base);
    errors.base.error_exit = jump_on_error;
    errors.base.emit_message = on_message;
}

namespace {

void start_buffer(j_compress_ptr target) {
    auto* destination = reinterpret_cast<StringDestination*>(target->dest);
    destination->base.next_output_byte = destination->buffer;
    destination->base.free_in_buffer = sizeof destination->buffer;
}

bool append(j_compress_ptr target, std::size_t length) {
    auto* destination = reinterpret_cast<StringDestination*>(target->dest);
    bool appended = true;
    try {
        destination->out->append(reinterpret_cast<const char*>(destination->buffer), length);
    } catch (...) {
        appended = false;
    }
    return appended;
}

boolean flush_full_buffer(j_compress_ptr target) {
    auto* destination = reinterpret_cast<StringDestination*>(target->dest);
    if (!append(target, sizeof destination->buffer)) ERREXIT1(target, JERR_OUT_OF_MEMORY, 0);
    start_buffer(target);
    return TRUE;
}

void flush_last_buffer(j_compress_ptr target) {
    auto* destination = reinterpret_cast<StringDestination*>(target->dest);
    if (!append(target, sizeof destination->buffer - destination->base.free_in_buffer))
        ERREXIT1(target, JERR_OUT_OF_MEMORY, 0);
}

}  // namespace

void attach(jpeg_compress_struct& target, StringDestination& destination) {
    destination.base.init_destination = start_buffer;
    destination.base.empty_output_buffer = flush_full_buffer;
    destination.base.term_destination = flush_last_buffer;
    target.dest = &destination.base;
}

std::string libjpeg_message(const ErrorManager& errors) {
    return errors.message;
}

}  // namespace gallery::imaging
