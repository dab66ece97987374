"""xsimd/13.0.0 shaped like ConanCenter's recipe (CMake package and target `xsimd`, header-only),
packaging Debian's xsimd headers (version 8.1: rlhash's kernels use the API both lines share)."""

import os

from conan import ConanFile
from conan.tools.files import copy


class XsimdConan(ConanFile):
    name = "xsimd"
    version = "13.0.0"
    license = "BSD-3-Clause"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "*", src="/usr/include/xsimd", dst=os.path.join(self.package_folder, "include", "xsimd"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "xsimd")
        self.cpp_info.set_property("cmake_target_name", "xsimd")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
