"""eigen/3.4.0 shaped like ConanCenter's recipe (CMake package Eigen3, target Eigen3::Eigen in a
component, pkg-config eigen3), packaging Debian's Eigen headers: rlhash's recipe must work with
the names ConanCenter gives, not only with Conan's defaults."""

import os

from conan import ConanFile
from conan.tools.files import copy


class EigenConan(ConanFile):
    name = "eigen"
    version = "3.4.0"
    license = ("MPL-2.0", "LGPL-3.0-or-later")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    no_copy_source = True

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "*", src="/usr/include/eigen3", dst=os.path.join(self.package_folder, "include", "eigen3"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "Eigen3")
        self.cpp_info.set_property("cmake_target_name", "Eigen3::Eigen")
        self.cpp_info.set_property("pkg_config_name", "eigen3")
        eigen3 = self.cpp_info.components["eigen3"]
        eigen3.set_property("cmake_target_name", "Eigen3::Eigen")
        eigen3.includedirs = [os.path.join("include", "eigen3")]
        eigen3.bindirs = []
        eigen3.libdirs = []
        if self.settings.os in ("Linux", "FreeBSD"):
            eigen3.system_libs = ["m"]
