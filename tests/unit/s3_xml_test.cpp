// S3's XML bodies: found by fuzz/s3_xml_fuzz.cpp.

#include <catch2/catch.hpp>

#include "storage/s3/xml.hpp"

using namespace gallery::storage;

TEST_CASE("a per-key DeleteObjects error on a key of spaces keeps the key") {
    // pugixml drops whitespace-only text by default: the error would name key ""
    // and the key of spaces would count as deleted while its object stays.
    const auto errors = s3::parse_delete_result(
        "<DeleteResult><Error><Key>  </Key><Code>AccessDenied</Code><Message>no</Message></Error>"
        "</DeleteResult>");
    REQUIRE(errors);
    REQUIRE(errors->size() == 1);
    CHECK((*errors)[0].key == "  ");
}

TEST_CASE("a listing entry without a key is an unreadable response") {
    const auto listing = s3::parse_list_result(
        "<ListBucketResult><Contents><Key>images/a.jpg</Key><Size>1</Size></Contents>"
        "<Contents><Size>2</Size></Contents></ListBucketResult>");
    REQUIRE_FALSE(listing);
    CHECK(listing.error().message == "s3: ListObjectsV2 response lists an object without a key");
}
