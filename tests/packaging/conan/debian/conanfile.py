"""Stands in for eigen, xsimd and zlib with Debian's packages, used in place (nothing is copied).

Exported three times by tools/ci-conan.sh (`conan export --name eigen --version 3.4.0`, ...), so
`conan create` of rlhash resolves its requirements offline. The packages keep Conan's default
names (eigen::eigen, ...); conancenter/ holds the recipes shaped like ConanCenter's.
"""

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration

# What each stand-in points at: include directories and libraries of Debian 12's -dev packages.
DEBIAN = {
    "eigen": {"includedirs": ["/usr/include/eigen3"], "system_libs": []},
    "xsimd": {"includedirs": ["/usr/include"], "system_libs": []},
    "zlib": {"includedirs": ["/usr/include"], "system_libs": ["z"]},
}


class DebianPackageConan(ConanFile):
    description = "A dependency of rlhash, taken from the Debian system it is built on"
    license = "see Debian's package"
    settings = "os", "arch", "compiler", "build_type"

    def validate(self):
        if self.name not in DEBIAN:
            raise ConanInvalidConfiguration(f"no Debian stand-in for {self.name}; expected one of {sorted(DEBIAN)}")

    def package_id(self):
        self.info.clear()

    def package_info(self):
        files = DEBIAN[self.name]
        self.cpp_info.includedirs = files["includedirs"]
        self.cpp_info.system_libs = files["system_libs"]
        self.cpp_info.libdirs = []
        self.cpp_info.bindirs = []
