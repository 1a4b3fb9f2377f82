# cmake --install build --prefix P: libaxon.so (SONAME libaxon.so.0.1) and libaxon.a, the
# public headers, the axon CLI and its man page, a CMake package (find_package(axon)),
# a pkg-config file, and the systemd unit axon-serve@.service. cpack -G DEB packs the
# same into axon_<version>_amd64.deb.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Installed programs and the shared library find the serial build of OpenBLAS whatever
# the system's BLAS alternative is, as they do in the build tree (see OPENBLAS above).
set(AXON_OPENBLAS_DIR /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-pthread)
set_target_properties(axon_shared axon_cli PROPERTIES INSTALL_RPATH ${AXON_OPENBLAS_DIR})
if(TARGET axon_python)
  set_target_properties(axon_python PROPERTIES INSTALL_RPATH ${AXON_OPENBLAS_DIR})
endif()

install(TARGETS axon axon_shared EXPORT axonTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS axon_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/axon DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/include/axon/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/axon)

set(AXON_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/axon)
install(EXPORT axonTargets NAMESPACE axon:: DESTINATION ${AXON_CMAKE_DIR})
configure_package_config_file(cmake/axonConfig.cmake.in ${CMAKE_BINARY_DIR}/axonConfig.cmake
                              INSTALL_DESTINATION ${AXON_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/axonConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/axonConfig.cmake ${CMAKE_BINARY_DIR}/axonConfigVersion.cmake
        DESTINATION ${AXON_CMAKE_DIR})

# pkg-config finds the prefix from where the .pc file lies, so any --prefix works.
file(RELATIVE_PATH AXON_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
set(AXON_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
configure_file(cmake/axon.pc.in ${CMAKE_BINARY_DIR}/axon.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/axon.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The man page, written from the CLI's own --help by scripts/manpage.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/axon.1
                   COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/scripts/manpage $<TARGET_FILE:axon_cli>
                           ${PROJECT_VERSION} ${CMAKE_BINARY_DIR}/axon.1
                   DEPENDS axon_cli ${PROJECT_SOURCE_DIR}/scripts/manpage)
add_custom_target(axon_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/axon.1)
install(FILES ${CMAKE_BINARY_DIR}/axon.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES packaging/axon-serve@.service DESTINATION lib/systemd/system)
install(FILES CHANGELOG.md README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# cpack -G DEB (in the build folder): the .deb. Dependencies are the Debian packages of
# what libaxon.so and axon link (checked by the .deb test with dpkg-deb).
set(CPACK_PACKAGE_NAME axon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "axon developers <axon@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "build, train, evaluate and serve neural networks in C++")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libopenblas0-pthread, libgrpc++1.51, libprotobuf32, libonnx1, zlib1g, libstdc++6 (>= 12), libc6 (>= 2.34)")
if(AXON_HAVE_MPI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libopenmpi3")
endif()
include(CPack)
