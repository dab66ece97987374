"""Builds and runs a small program against the rlhash package (`conan create` runs it)."""

import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class RlhashTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.cpp.build.bindir, "test_package"), env="conanrun")
            if self.dependencies[self.tested_reference_str].options.with_cuda:
                # Reports 0 devices on a machine without a GPU; it checks the component links.
                self.run(os.path.join(self.cpp.build.bindir, "test_package_cuda"), env="conanrun")
