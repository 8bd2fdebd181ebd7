#include "imaging/jpeg_requantize.hpp"

// jpeglib.h needs FILE and size_t declared first.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

namespace gallery::imaging {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: it jumps
// back to the setjmp of the function that called into libjpeg. Those functions
// hold no C++ objects with destructors between setjmp and the jump.
struct ErrorManager {
    jpeg_error_mgr base{};
    std::jmp_buf jump{};
    char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void jump_on_error(j_common_ptr info) {
    auto* errors = reinterpret_cast<ErrorManager*>(info->err);
    (*info->err->format_message)(info, errors->message);
    std::longjmp(errors->jump, 1);
}

// Warnings are ignored (as libvips does at fail_on=truncated) except the end of the
// data arriving early: a truncated upload is refused, not stored half grey.
void on_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) jump_on_error(info);
}

void install(ErrorManager& errors) {
    jpeg_std_error(&errors.base);
    errors.base.error_exit = jump_on_error;
    errors.base.emit_message = on_message;
}

// Coefficient arrays cover whole MCUs: the blocks past the image's edge (decoded
// from the upload like the others) are written too, as jpegtran does.
JDIMENSION padded(JDIMENSION blocks, int sampling_factor) {
    const auto factor = static_cast<JDIMENSION>(sampling_factor);
    return (blocks + factor - 1) / factor * factor;
}

// libjpeg's own rounding of a coefficient to a quantisation step (jcdctmgr.c),
// applied to the dequantised value old_value * old_step.
JCOEF requantise(JCOEF old_value, int old_step, int new_step) {
    const long value = static_cast<long>(old_value) * old_step;
    const long half = new_step / 2;
    const long magnitude = ((value < 0 ? -value : value) + half) / new_step;
    return static_cast<JCOEF>(value < 0 ? -magnitude : magnitude);
}

// libjpeg's output appended to a string. (jpeg_mem_dest's buffer cannot be freed
// safely after an error part-way: it hands the caller a pointer it may have freed.)
struct StringDestination {
    jpeg_destination_mgr base{};
    std::string* out = nullptr;
    JOCTET buffer[64 * 1024] = {};
};

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

struct JpegCoefficients::State {
    jpeg_decompress_struct source{};
    ErrorManager errors;
    jvirt_barray_ptr* coefficients = nullptr;  // libjpeg's arrays, rewritten per encode
    std::vector<JCOEF> original;               // the upload's coefficients, kept intact
    bool created = false;

    ~State() {
        if (created) jpeg_destroy_decompress(&source);
    }
};

namespace {

// Calls visit(row, blocks in the row, component) for every row of blocks of every
// component, in order. Errors jump to the setjmp of the caller's caller.
template <typename Visit>
void for_each_block_row(JpegCoefficients::State& state, boolean writable, Visit visit) {
    for (int c = 0; c < state.source.num_components; ++c) {
        const jpeg_component_info& component = state.source.comp_info[c];
        const JDIMENSION rows = padded(component.height_in_blocks, component.v_samp_factor);
        const JDIMENSION columns = padded(component.width_in_blocks, component.h_samp_factor);
        for (JDIMENSION row = 0; row < rows; ++row) {
            JBLOCKARRAY blocks = (*state.source.mem->access_virt_barray)(
                reinterpret_cast<j_common_ptr>(&state.source), state.coefficients[c], row, 1,
                writable);
            visit(blocks[0], columns, c);
        }
    }
}

// Returns false with errors.message set when libjpeg gave up.
bool read_into(JpegCoefficients::State& state, std::string_view jpeg) {
    install(state.errors);
    state.source.err = &state.errors.base;
    if (setjmp(state.errors.jump)) return false;
    jpeg_create_decompress(&state.source);
    state.created = true;
    jpeg_mem_src(&state.source, reinterpret_cast<const unsigned char*>(jpeg.data()),
                 static_cast<unsigned long>(jpeg.size()));
    jpeg_read_header(&state.source, TRUE);
    state.coefficients = jpeg_read_coefficients(&state.source);
    std::size_t total = 0;
    for (int c = 0; c < state.source.num_components; ++c) {
        const jpeg_component_info& component = state.source.comp_info[c];
        total += std::size_t{padded(component.width_in_blocks, component.h_samp_factor)} *
                 padded(component.height_in_blocks, component.v_samp_factor) * DCTSIZE2;
    }
    state.original.resize(total);
    JCOEF* next = state.original.data();
    for_each_block_row(state, FALSE, [&next](JBLOCKROW row, JDIMENSION columns, int) {
        for (JDIMENSION block = 0; block < columns; ++block, next += DCTSIZE2)
            std::copy_n(row[block], DCTSIZE2, next);
    });
    return true;
}

// The image requantised to `quality`, appended to destination.out.
bool write_requantised(JpegCoefficients::State& state, jpeg_compress_struct& target,
                       ErrorManager& errors, StringDestination& destination, int quality) {
    install(errors);
    target.err = &errors.base;
    state.source.err = &errors.base;  // reading the source's arrays can fail too
    if (setjmp(errors.jump)) return false;
    jpeg_create_compress(&target);
    destination.base.init_destination = start_buffer;
    destination.base.empty_output_buffer = flush_full_buffer;
    destination.base.term_destination = flush_last_buffer;
    target.dest = &destination.base;
    jpeg_copy_critical_parameters(&state.source, &target);
    // The standard tables at `quality`: luminance for the first component, chroma for
    // the others (a source with a table per component gets the usual two).
    jpeg_set_quality(&target, quality, TRUE);
    for (int c = 0; c < target.num_components; ++c)
        target.comp_info[c].quant_tbl_no = c == 0 ? 0 : 1;
    target.optimize_coding = TRUE;

    // The source's own arrays are rewritten and handed to the writer, as jpegtran
    // does: no second set of whole-image arrays.
    const JCOEF* next = state.original.data();
    for_each_block_row(state, TRUE, [&](JBLOCKROW row, JDIMENSION columns, int c) {
        const UINT16* old_steps = state.source.comp_info[c].quant_table->quantval;
        const UINT16* new_steps = target.quant_tbl_ptrs[target.comp_info[c].quant_tbl_no]->quantval;
        for (JDIMENSION block = 0; block < columns; ++block, next += DCTSIZE2) {
            for (int k = 0; k < DCTSIZE2; ++k)
                row[block][k] = requantise(next[k], old_steps[k], new_steps[k]);
        }
    });
    jpeg_write_coefficients(&target, state.coefficients);
    jpeg_finish_compress(&target);
    return true;
}

}  // namespace

JpegCoefficients::JpegCoefficients(std::unique_ptr<State> state) : m_state(std::move(state)) {}
JpegCoefficients::~JpegCoefficients() = default;

Result<std::unique_ptr<JpegCoefficients>> JpegCoefficients::read(std::string_view jpeg) {
    auto state = std::make_unique<State>();
    if (!read_into(*state, jpeg)) {
        return fail(ErrorKind::invalid_input,
                    std::string("The image could not be decoded: ") + state->errors.message);
    }
    return std::unique_ptr<JpegCoefficients>(new JpegCoefficients(std::move(state)));
}

Result<std::string> JpegCoefficients::encode(int quality) {
    std::string bytes;
    jpeg_compress_struct target{};
    ErrorManager errors;
    auto destination = std::make_unique<StringDestination>();
    destination->out = &bytes;
    const bool written = write_requantised(*m_state, target, errors, *destination, quality);
    target.dest = nullptr;  // ours, not libjpeg's to free
    jpeg_destroy_compress(&target);
    m_state->source.err = &m_state->errors.base;
    if (!written) {
        return fail(ErrorKind::invalid_input,
                    std::string("The image could not be re-encoded: ") + errors.message);
    }
    return bytes;
}

}  // namespace gallery::imaging
