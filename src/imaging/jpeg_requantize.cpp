#include "imaging/jpeg_requantize.hpp"

// jpeglib.h needs FILE and size_t declared first.
#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <queue>
#include <span>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <jerror.h>
#include <jpeglib.h>

#include "imaging/jpeg_exif.hpp"
#include "imaging/jpeg_io.hpp"

namespace gallery::imaging {
namespace {

// Coefficient arrays cover whole MCUs: the blocks past the image's edge (decoded
// from the upload like the others) are written too, as jpegtran does.
JDIMENSION padded(JDIMENSION blocks, int sampling_factor) {
    const auto factor = static_cast<JDIMENSION>(sampling_factor);
    return (blocks + factor - 1) / factor * factor;
}

// The tables of ITU T.81 Annex K (natural order) that jpeg_set_quality scales:
// luminance for the first component, chrominance for the others.
constexpr std::array<unsigned, DCTSIZE2> k_luminance{
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr std::array<unsigned, DCTSIZE2> k_chrominance{
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

const std::array<unsigned, DCTSIZE2>& basic_table(int component) {
    return component == 0 ? k_luminance : k_chrominance;
}

// jpeg_add_quant_table's scaling, baseline (steps 1..255).
std::array<double, DCTSIZE2> scaled_steps(int component, int quality) {
    const long scale = jpeg_quality_scaling(quality);
    std::array<double, DCTSIZE2> steps{};
    for (int k = 0; k < DCTSIZE2; ++k) {
        const long step = (static_cast<long>(basic_table(component)[k]) * scale + 50) / 100;
        steps[k] = static_cast<double>(std::clamp(step, 1L, 255L));
    }
    return steps;
}

// Zig-zag position -> natural position (libjpeg's arrays are in natural order).
constexpr std::array<int, DCTSIZE2> k_zigzag{
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

// Per coefficient of one component, in zig-zag order: the upload's step, the new one.
struct Steps {
    std::array<double, DCTSIZE2> old_step;
    std::array<double, DCTSIZE2> new_step;
    std::array<double, DCTSIZE2> half_new_step;
};

// value x old step / new step, rounded half away from zero as libjpeg's quantiser.
// In doubles the division is exact enough (numerators < 2^27, steps < 2^16: a
// quotient short of an integer stays short of it), branch-free, and vectorises.
inline void requantise_block(const JCOEF* from, JCOEF* to, const Steps& steps) {
    for (int k = 0; k < DCTSIZE2; ++k) {
        const int value = from[k];
        const int sign = value >> 31;  // 0 or -1
        const double magnitude = (value ^ sign) - sign;
        const int quotient = static_cast<int>(
            (magnitude * steps.old_step[k] + steps.half_new_step[k]) / steps.new_step[k]);
        to[k] = static_cast<JCOEF>((quotient ^ sign) - sign);
    }
}

int bit_length(int magnitude) {
    return magnitude == 0 ? 0 : 32 - __builtin_clz(static_cast<unsigned>(magnitude));
}

// Bits of an optimal prefix code (Huffman, no length limit) for symbols with these
// counts: what any JPEG Huffman table for them costs at least (a 16-bit length
// limit and the reserved all-ones code only add).
double prefix_code_bits(std::span<const std::uint64_t> counts) {
    std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> weights;
    for (const std::uint64_t count : counts) {
        if (count > 0) weights.push(count);
    }
    if (weights.size() == 1) return static_cast<double>(weights.top());
    double bits = 0;
    while (weights.size() > 1) {
        const std::uint64_t first = weights.top();
        weights.pop();
        const std::uint64_t second = weights.top();
        weights.pop();
        bits += static_cast<double>(first + second);
        weights.push(first + second);
    }
    return bits;
}

// Bit z set when coefficient z of the block is not zero.
std::uint64_t nonzero_mask(const JCOEF* block) {
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    std::uint64_t mask = 0;
    for (int i = 0; i < 4; ++i) {
        const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i));
        const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * i + 8));
        const auto zeros = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_packs_epi16(_mm_cmpeq_epi16(low, zero), _mm_cmpeq_epi16(high, zero))));
        mask |= std::uint64_t{~zeros & 0xFFFFu} << (16 * i);
    }
    return mask;
#else
    std::uint64_t mask = 0;
    for (int z = 0; z < DCTSIZE2; ++z) mask |= std::uint64_t{block[z] != 0} << z;
    return mask;
#endif
}

// The Huffman symbols of one component (run/size bytes for AC, sizes for DC) and
// their extra bits, as libjpeg's sequential encoder emits them.
struct SymbolCounts {
    std::array<std::uint64_t, 256> ac{};
    std::array<std::uint64_t, 16> dc{};
    std::uint64_t extra_bits = 0;

    // `block` in zig-zag order. Only the non-zero coefficients are visited.
    void add_ac(const JCOEF* block) {
        std::uint64_t remaining = nonzero_mask(block) & ~std::uint64_t{1};
        int last = 0;
        while (remaining != 0) {
            const int z = __builtin_ctzll(remaining);
            remaining &= remaining - 1;
            int run = z - last - 1;
            for (; run > 15; run -= 16) ++ac[0xF0];
            const int value = block[z];
            const int size = bit_length(value < 0 ? -value : value);
            ++ac[static_cast<std::size_t>(run << 4 | size)];
            extra_bits += static_cast<std::uint64_t>(size);
            last = z;
        }
        if (last != DCTSIZE2 - 1) ++ac[0x00];  // end of block
    }

    void add_dc(int difference) {
        const int size = bit_length(difference < 0 ? -difference : difference);
        ++dc[static_cast<std::size_t>(size)];
        extra_bits += static_cast<std::uint64_t>(size);
    }

    void merge(const SymbolCounts& other) {
        for (std::size_t i = 0; i < ac.size(); ++i) ac[i] += other.ac[i];
        for (std::size_t i = 0; i < dc.size(); ++i) dc[i] += other.dc[i];
        extra_bits += other.extra_bits;
    }

    double bits() const {
        return prefix_code_bits(ac) + prefix_code_bits(dc) + static_cast<double>(extra_bits);
    }
};

}  // namespace

struct JpegCoefficients::State {
    std::string_view jpeg;
    jpeg_decompress_struct source{};
    ErrorManager errors;
    ReadProgress progress;
    bool created = false;
    int orientation = 1;
    jvirt_barray_ptr* coefficients = nullptr;  // libjpeg's arrays, rewritten per encode
    // One entry per row of blocks of every component, in order. libjpeg keeps whole-
    // image arrays in memory (no backing store), so the pointers stay valid and the
    // rows can be rewritten without calling into libjpeg (from several threads).
    struct Row {
        JBLOCKROW blocks;
        JDIMENSION columns;
        JDIMENSION coded_columns;  // the blocks the output's scan codes (0: padding only)
        int component;
        std::size_t offset;  // of its first coefficient in `original`
    };
    std::vector<Row> rows;
    std::vector<std::size_t> first_row;  // per component: its first entry in `rows`
    std::vector<JDIMENSION> rows_of;     // per component: how many rows it has
    std::unique_ptr<JCOEF[]> original;   // the upload's coefficients, intact, zig-zag order

    ~State() {
        if (created) jpeg_destroy_decompress(&source);
    }

    std::vector<Steps> steps_for(int quality) const {
        std::vector<Steps> steps(static_cast<std::size_t>(source.num_components));
        for (int c = 0; c < source.num_components; ++c) {
            auto& s = steps[static_cast<std::size_t>(c)];
            const std::array<double, DCTSIZE2> natural = scaled_steps(c, quality);
            // A component that no scan carried has no table latched, and libjpeg never
            // checked its table number (its coefficients are all zero: any step will do).
            const jpeg_component_info& component = source.comp_info[c];
            const bool numbered =
                component.quant_tbl_no >= 0 && component.quant_tbl_no < NUM_QUANT_TBLS;
            const JQUANT_TBL* table = component.quant_table ? component.quant_table
                                      : numbered ? source.quant_tbl_ptrs[component.quant_tbl_no]
                                                 : nullptr;
            for (std::size_t z = 0; z < DCTSIZE2; ++z) {
                const auto k = static_cast<std::size_t>(k_zigzag[z]);
                s.old_step[z] = table ? table->quantval[k] : 1;
                s.new_step[z] = natural[k];
                s.half_new_step[z] = std::floor(natural[k] / 2);
            }
        }
        return steps;
    }

    // Calls work(first row, last row) on two threads when there are two cores.
    template <typename Work>
    void split_rows(Work work) const {
        if (std::thread::hardware_concurrency() < 2 || rows.size() < 2) {
            work(std::size_t{0}, rows.size());
            return;
        }
        const std::size_t middle = rows.size() / 2;
        std::thread second([&] { work(middle, rows.size()); });
        work(std::size_t{0}, middle);
        second.join();
    }
};

namespace {

// Each returns false with errors.message set when libjpeg gave up.
bool read_header(JpegCoefficients::State& state) {
    install(state.errors);
    state.source.err = &state.errors.base;
    if (setjmp(state.errors.jump)) return false;
    jpeg_create_decompress(&state.source);
    state.created = true;
    state.progress.base.progress_monitor = on_progress;
    state.source.progress = &state.progress.base;
    jpeg_mem_src(&state.source, reinterpret_cast<const unsigned char*>(state.jpeg.data()),
                 static_cast<unsigned long>(state.jpeg.size()));
    jpeg_save_markers(&state.source, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&state.source, TRUE);
    return true;
}

bool read_rows(JpegCoefficients::State& state) {
    if (setjmp(state.errors.jump)) return false;
    state.coefficients = jpeg_read_coefficients(&state.source);
    std::size_t offset = 0;
    for (int c = 0; c < state.source.num_components; ++c) {
        const jpeg_component_info& component = state.source.comp_info[c];
        const JDIMENSION rows = padded(component.height_in_blocks, component.v_samp_factor);
        const JDIMENSION columns = padded(component.width_in_blocks, component.h_samp_factor);
        state.first_row.push_back(state.rows.size());
        state.rows_of.push_back(rows);
        for (JDIMENSION row = 0; row < rows; ++row) {
            JBLOCKARRAY blocks = (*state.source.mem->access_virt_barray)(
                reinterpret_cast<j_common_ptr>(&state.source), state.coefficients[c], row, 1, TRUE);
            // One interleaved scan codes whole MCUs; a single component's scan codes
            // only the blocks inside the image.
            const bool interleaved = state.source.num_components > 1;
            const JDIMENSION coded = interleaved                        ? columns
                                     : row < component.height_in_blocks ? component.width_in_blocks
                                                                        : 0;
            state.rows.push_back({blocks[0], columns, coded, c, offset});
            offset += std::size_t{columns} * DCTSIZE2;
        }
    }
    return true;
}

// The source's own arrays, already requantised, go to the writer (as jpegtran does:
// no second set of whole-image arrays). The output is appended to destination.out.
bool write_coefficients(JpegCoefficients::State& state, jpeg_compress_struct& target,
                        ErrorManager& errors, StringDestination& destination, int quality) {
    install(errors);
    target.err = &errors.base;
    if (setjmp(errors.jump)) return false;
    jpeg_create_compress(&target);
    attach(target, destination);
    jpeg_copy_critical_parameters(&state.source, &target);
    const int scale = jpeg_quality_scaling(quality);
    jpeg_add_quant_table(&target, 0, k_luminance.data(), scale, TRUE);
    jpeg_add_quant_table(&target, 1, k_chrominance.data(), scale, TRUE);
    for (int c = 0; c < target.num_components; ++c)
        target.comp_info[c].quant_tbl_no = c == 0 ? 0 : 1;
    target.optimize_coding = TRUE;
    jpeg_write_coefficients(&target, state.coefficients);
    jpeg_finish_compress(&target);
    return true;
}

}  // namespace

std::size_t count_jpeg_scans(std::string_view jpeg) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(jpeg[i]); };
    const auto is_restart = [](unsigned char marker) { return marker >= 0xD0 && marker <= 0xD7; };
    std::size_t scans = 0;
    std::size_t at = 2;  // after SOI
    while (at + 1 < jpeg.size()) {
        if (byte(at) != 0xFF) return scans;  // not a marker where one must be: stop
        const unsigned char marker = byte(at + 1);
        if (marker == 0xFF) {  // fill byte
            ++at;
            continue;
        }
        if (marker == 0xD9) return scans;  // EOI
        if (is_restart(marker) || marker == 0x01) {
            at += 2;
            continue;
        }
        if (at + 3 >= jpeg.size()) return scans;
        at += 2 + (std::size_t{byte(at + 2)} << 8 | byte(at + 3));
        if (marker != 0xDA) continue;
        ++scans;
        // The entropy-coded data runs to the next marker that is neither a stuffed
        // 0xFF00 nor a restart marker.
        while (at + 1 < jpeg.size() &&
               !(byte(at) == 0xFF && byte(at + 1) != 0 && !is_restart(byte(at + 1)))) {
            ++at;
        }
    }
    return scans;
}

JpegCoefficients::JpegCoefficients(std::unique_ptr<State> state) : m_state(std::move(state)) {}
JpegCoefficients::~JpegCoefficients() = default;

Result<std::unique_ptr<JpegCoefficients>> JpegCoefficients::open(std::string_view jpeg) {
    auto state = std::make_unique<State>();
    state->jpeg = jpeg;
    if (!read_header(*state)) {
        return fail(ErrorKind::invalid_input,
                    "The image could not be decoded: " + libjpeg_message(state->errors));
    }
    for (jpeg_saved_marker_ptr marker = state->source.marker_list; marker; marker = marker->next) {
        if (marker->marker != JPEG_APP0 + 1) continue;
        state->orientation = exif_orientation({marker->data, marker->data_length});
        if (state->orientation != 1) break;
    }
    return std::unique_ptr<JpegCoefficients>(new JpegCoefficients(std::move(state)));
}

std::uint64_t JpegCoefficients::width() const {
    return m_state->source.image_width;
}
std::uint64_t JpegCoefficients::height() const {
    return m_state->source.image_height;
}
int JpegCoefficients::orientation() const {
    return m_state->orientation;
}

std::uint64_t JpegCoefficients::working_bytes() const {
    const jpeg_decompress_struct& source = m_state->source;
    std::uint64_t coefficients = 0;
    for (int c = 0; c < source.num_components; ++c) {
        const jpeg_component_info& component = source.comp_info[c];
        const auto blocks = [](std::uint64_t pixels, int factor, int largest) {
            return (pixels * static_cast<std::uint64_t>(factor) + 8 * largest - 1) /
                       (8 * static_cast<std::uint64_t>(largest)) +
                   1;  // + a partial MCU
        };
        coefficients +=
            blocks(source.image_width, component.h_samp_factor, source.max_h_samp_factor) *
            blocks(source.image_height, component.v_samp_factor, source.max_v_samp_factor) *
            DCTSIZE2;
    }
    return 2 * coefficients * sizeof(JCOEF);
}

Result<void> JpegCoefficients::read_coefficients(std::chrono::steady_clock::time_point deadline) {
    State& state = *m_state;
    state.progress.deadline = deadline;
    if (!read_rows(state) || state.rows.empty()) {
        return fail(ErrorKind::invalid_input,
                    "The image could not be decoded: " + libjpeg_message(state.errors));
    }
    // The intact copy the encodes requantise from (not zeroed: all of it is written).
    const auto& last = state.rows.back();
    state.original.reset(new JCOEF[last.offset + std::size_t{last.columns} * DCTSIZE2]);
    state.split_rows([&state](std::size_t first, std::size_t end) {
        for (std::size_t r = first; r < end; ++r) {
            const auto& row = state.rows[r];
            JCOEF* to = state.original.get() + row.offset;
            for (JDIMENSION block = 0; block < row.columns; ++block, to += DCTSIZE2) {
                for (std::size_t z = 0; z < DCTSIZE2; ++z) to[z] = row.blocks[block][k_zigzag[z]];
            }
        }
    });
    return {};
}

std::uint64_t JpegCoefficients::size_lower_bound(int quality) const {
    const State& state = *m_state;
    // More than 4 components go out in several scans: no bound is worked out for those.
    if (state.source.num_components > MAX_COMPS_IN_SCAN) return 0;
    const std::vector<Steps> steps = state.steps_for(quality);
    const auto components = static_cast<std::size_t>(state.source.num_components);
    std::vector<SymbolCounts> halves[2] = {std::vector<SymbolCounts>(components),
                                           std::vector<SymbolCounts>(components)};
    state.split_rows([&](std::size_t first, std::size_t end) {
        auto& counts = halves[first == 0 ? 0 : 1];
        JBLOCK requantised;
        for (std::size_t r = first; r < end; ++r) {
            const auto& row = state.rows[r];
            const auto c = static_cast<std::size_t>(row.component);
            const JCOEF* from = state.original.get() + row.offset;
            for (JDIMENSION block = 0; block < row.coded_columns; ++block, from += DCTSIZE2) {
                requantise_block(from, requantised, steps[c]);
                counts[c].add_ac(requantised);
            }
        }
    });
    // DC values are coded as differences from the previous block of the component in
    // the scan's order: MCU by MCU (one block per MCU without interleaving).
    const bool interleaved = components > 1;
    for (std::size_t c = 0; c < components; ++c) {
        const jpeg_component_info& component = state.source.comp_info[c];
        const int across = interleaved ? component.h_samp_factor : 1;
        const int down = interleaved ? component.v_samp_factor : 1;
        const std::size_t first_row = state.first_row[c];
        const JDIMENSION rows = interleaved ? state.rows_of[c] : component.height_in_blocks;
        const JDIMENSION columns = state.rows[first_row].coded_columns;
        const double old_step = steps[c].old_step[0];
        const double new_step = steps[c].new_step[0];
        const double half = steps[c].half_new_step[0];
        int previous = 0;
        for (JDIMENSION mcu_row = 0; mcu_row < rows; mcu_row += static_cast<JDIMENSION>(down)) {
            for (JDIMENSION mcu_column = 0; mcu_column < columns;
                 mcu_column += static_cast<JDIMENSION>(across)) {
                for (int y = 0; y < down; ++y) {
                    const auto& row = state.rows[first_row + mcu_row + static_cast<JDIMENSION>(y)];
                    for (int x = 0; x < across; ++x) {
                        const int value =
                            state.original[row.offset +
                                           (mcu_column + static_cast<JDIMENSION>(x)) * DCTSIZE2];
                        const int sign = value >> 31;
                        const int quotient = static_cast<int>(
                            (((value ^ sign) - sign) * old_step + half) / new_step);
                        const int dc = (quotient ^ sign) - sign;
                        halves[0][c].add_dc(dc - previous);
                        previous = dc;
                    }
                }
            }
        }
    }
    double bits = 0;
    for (std::size_t c = 0; c < components; ++c) {
        halves[0][c].merge(halves[1][c]);
        bits += halves[0][c].bits();
    }
    return static_cast<std::uint64_t>(bits / 8);
}

Result<std::string> JpegCoefficients::encode(int quality) {
    State& state = *m_state;
    const std::vector<Steps> steps = state.steps_for(quality);
    state.split_rows([&](std::size_t first, std::size_t end) {
        for (std::size_t r = first; r < end; ++r) {
            const auto& row = state.rows[r];
            const JCOEF* from = state.original.get() + row.offset;
            const Steps& component_steps = steps[static_cast<std::size_t>(row.component)];
            JBLOCK zigzag;
            for (JDIMENSION block = 0; block < row.columns; ++block, from += DCTSIZE2) {
                requantise_block(from, zigzag, component_steps);
                for (std::size_t z = 0; z < DCTSIZE2; ++z)
                    row.blocks[block][k_zigzag[z]] = zigzag[z];
            }
        }
    });
    std::string bytes;
    jpeg_compress_struct target{};
    ErrorManager errors;
    auto destination = std::make_unique<StringDestination>();
    destination->out = &bytes;
    state.source.err = &errors.base;  // the writer reads the source's arrays
    const bool written = write_coefficients(state, target, errors, *destination, quality);
    target.dest = nullptr;  // ours, not libjpeg's to free
    jpeg_destroy_compress(&target);
    state.source.err = &state.errors.base;
    if (!written) {
        return fail(ErrorKind::invalid_input,
                    "The image could not be re-encoded: " + libjpeg_message(errors));
    }
    return bytes;
}

}  // namespace gallery::imaging
