"""zlib/1.2.13 shaped like ConanCenter's recipe (found as module and config, ZLIB::ZLIB,
pkg-config zlib, a static libz), packaging Debian's zlib headers and static library."""

import os

from conan import ConanFile
from conan.tools.files import copy


class ZlibConan(ConanFile):
    name = "zlib"
    version = "1.2.13"
    license = "Zlib"
    package_type = "static-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def package(self):
        for header in ("zlib.h", "zconf.h"):
            copy(self, header, src="/usr/include", dst=os.path.join(self.package_folder, "include"))
        copy(self, "libz.a", src="/usr/lib/x86_64-linux-gnu", dst=os.path.join(self.package_folder, "lib"))

    def package_info(self):
        self.cpp_info.set_property("cmake_find_mode", "both")
        self.cpp_info.set_property("cmake_file_name", "ZLIB")
        self.cpp_info.set_property("cmake_target_name", "ZLIB::ZLIB")
        self.cpp_info.set_property("pkg_config_name", "zlib")
        self.cpp_info.libs = ["z"]
