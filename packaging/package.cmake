# `cpack -G DEB` from the build folder: /usr/bin/gallery, its man page, the example
# configuration (a conffile), the systemd units and timer, a cron example, alert
# rules, and maintainer scripts that create the gallery user and /var/lib/gallery.

find_program(HELP2MAN help2man)
find_program(GZIP gzip REQUIRED)
if(HELP2MAN)
  set(GALLERY_MAN_PAGE ${CMAKE_BINARY_DIR}/gallery.1.gz)
  add_custom_command(
    OUTPUT ${GALLERY_MAN_PAGE}
    COMMAND ${HELP2MAN} --no-info --section=1 --name=${CMAKE_PROJECT_DESCRIPTION}
            --include=${CMAKE_SOURCE_DIR}/packaging/man-extra.h2m
            --output=${CMAKE_BINARY_DIR}/gallery.1 $<TARGET_FILE:gallery>
    COMMAND ${GZIP} -9nf ${CMAKE_BINARY_DIR}/gallery.1
    DEPENDS gallery ${CMAKE_SOURCE_DIR}/packaging/man-extra.h2m
    COMMENT "Generating the man page with help2man")
  add_custom_target(man_page ALL DEPENDS ${GALLERY_MAN_PAGE})
  install(FILES ${GALLERY_MAN_PAGE} DESTINATION share/man/man1)
endif()

set(GALLERY_CHANGELOG ${CMAKE_BINARY_DIR}/changelog.gz)
add_custom_command(
  OUTPUT ${GALLERY_CHANGELOG}
  COMMAND ${GZIP} -9nc ${CMAKE_SOURCE_DIR}/packaging/changelog > ${GALLERY_CHANGELOG}
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog)
add_custom_target(package_changelog ALL DEPENDS ${GALLERY_CHANGELOG})

install(FILES packaging/gallery.toml DESTINATION /etc/gallery)
install(FILES packaging/gallery.service packaging/gallery-cleanup.service
              packaging/gallery-cleanup.timer packaging/gallery-backup.service
              packaging/gallery-backup.timer DESTINATION /lib/systemd/system)
install(FILES packaging/copyright ${GALLERY_CHANGELOG} DESTINATION share/doc/gallery)
install(FILES packaging/gallery.cron packaging/gallery-alerts.yml DESTINATION share/doc/gallery/examples)
install(FILES packaging/nginx/gallery.conf DESTINATION share/doc/gallery/examples RENAME nginx-gallery.conf)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gallery)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "gallery developers <gallery@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "image store whose deletes never wait on storage")
# CPack puts the summary on the first line; this is the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "One executable and one SQLite file: an HTTP API for images on local disk or\n S3-compatible storage, admin pages, and a deletion queue that a timer empties.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The libvips plugin inside the binary is loaded with dlopen, which dpkg-shlibdeps
# cannot see: its libraries are named here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libvips42, libimagequant0, libspng0")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/postrm
    ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
