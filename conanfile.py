"""Conan 2 recipe for rlhash, a header-only C++17 library.

From a checkout: `conan create . --build=missing` (test_package/ builds a small program against the
package); `-o "rlhash/*:with_cuda=True"` adds the rlhash::cuda component, `-o
"rlhash/*:with_zlib=False"` drops the gzip reader's zlib dependency.

The package is laid out by the project's own CMake install (so it holds exactly what
`cmake --install` ships); consumers get their CMake config and pkg-config files from Conan's
generators (CMakeDeps, PkgConfigDeps), which read package_info() below.
"""

import os
import textwrap

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, rmdir, save

required_conan_version = ">=2.0"


class RlhashConan(ConanFile):
    name = "rlhash"
    # Must equal include/rlhash/version.hpp (tools/ci-packaging.sh checks it).
    version = "0.1.0"
    description = "Binary codes learned with deep reinforcement learning, and fast Hamming search"
    license = "MIT"
    # Placeholder: the project has no published address yet; replace before a ConanCenter submission.
    homepage = "https://github.com/rlhash/rlhash"
    url = homepage
    topics = ("hashing", "binary-codes", "learning-to-hash", "reinforcement-learning", "hamming-distance",
              "nearest-neighbor-search", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_zlib": [True, False],
        "with_cuda": [True, False],
    }
    default_options = {
        "with_zlib": True,
        "with_cuda": False,
    }
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "include/*"
    no_copy_source = True

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # The headers work with Eigen 3.4 through 5.x; 3.4.0 is what most of ConanCenter pins.
        self.requires("eigen/3.4.0")
        # The portable Hamming kernels (search/hamming_kernels_xsimd.hpp) are xsimd batches: NEON
        # on ARM, SSE2 on x86 without AVX2. 13.x is the current line and the one other packages
        # (xtensor) require; CI also builds against Debian 12's 8.1.
        self.requires("xsimd/13.0.0")
        if self.options.with_zlib:
            self.requires("zlib/[>=1.2.11 <2]")

    def validate(self):
        check_min_cppstd(self, 17)
        # POSIX file mapping (mmap), std::aligned_alloc and GCC/Clang builtins.
        if self.settings.os == "Windows":
            raise ConanInvalidConfiguration(f"{self.ref} needs a POSIX system (it maps files with mmap)")
        if self.settings.compiler == "msvc":
            raise ConanInvalidConfiguration(f"{self.ref} needs GCC or Clang (it uses their builtins)")

    def package_id(self):
        # Header-only: one package serves every configuration, whatever the options.
        self.info.clear()

    def generate(self):
        toolchain = CMakeToolchain(self)
        for part in ("TESTS", "BENCHMARKS", "EXAMPLES", "APPS", "DOCS"):
            toolchain.cache_variables[f"RLHASH_BUILD_{part}"] = False
        toolchain.cache_variables["RLHASH_WITH_ZLIB"] = bool(self.options.with_zlib)
        # The CUDA component is headers too: packaging it needs no CUDA compiler (see package()).
        toolchain.cache_variables["RLHASH_WITH_CUDA"] = False
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()

    def package(self):
        copy(self, "LICENSE", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))
        cmake = CMake(self)
        cmake.install()
        # Conan's generators write the consumers' CMake config and pkg-config files from
        # package_info(); the project's own would only shadow them.
        rmdir(self, os.path.join(self.package_folder, "lib"))
        rmdir(self, os.path.join(self.package_folder, "share"))
        # The package must not depend on the options (package_id is cleared), so the CUDA
        # component's headers (installed with the others, include/rlhash/cuda) and its CMake module
        # are always shipped; package_info() declares the component only with with_cuda.
        save(self, os.path.join(self.package_folder, self._cuda_module), self._cuda_module_content)

    @property
    def _cuda_module(self):
        return os.path.join("res", "cmake", "rlhash-cuda-toolkit.cmake")

    @property
    def _cuda_module_content(self):
        # cuBLAS and the CUDA runtime come from the system toolkit, which Conan does not package:
        # CMake's FindCUDAToolkit locates them when a consumer loads the rlhash config.
        return textwrap.dedent("""\
            # rlhash::cuda links the CUDA runtime and cuBLAS of the system's CUDA toolkit.
            # The component's -lcudart -lcublas (for pkg-config users) are found in the toolkit's
            # library directory.
            find_package(CUDAToolkit REQUIRED)
            if(TARGET rlhash::cuda)
              set_property(TARGET rlhash::cuda APPEND PROPERTY INTERFACE_LINK_LIBRARIES CUDA::cudart CUDA::cublas)
              set_property(TARGET rlhash::cuda APPEND PROPERTY INTERFACE_LINK_DIRECTORIES "${CUDAToolkit_LIBRARY_DIR}")
            endif()
            """)

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "rlhash")
        # rlhash::rlhash is the core alone, as in the CMake package; the aggregate of every
        # component (which CMakeDeps always creates) gets a name of its own.
        self.cpp_info.set_property("cmake_target_name", "rlhash::all")
        self.cpp_info.set_property("pkg_config_name", "rlhash-all")
        # As the project's own rlhashConfigVersion.cmake: while the version is 0.x, a minor version
        # may break the API.
        self.cpp_info.set_property("cmake_config_version_compat", "SameMinorVersion")
        # Header-only: no library or binary folder (else rlhash-all.pc names a -L that is absent).
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "rlhash::rlhash")
        core.set_property("pkg_config_name", "rlhash")
        core.bindirs = []
        core.libdirs = []
        core.requires = ["eigen::eigen", "xsimd::xsimd"]
        core.defines = ["RLHASH_HAS_XSIMD=1"]
        if self.options.with_zlib:
            core.requires.append("zlib::zlib")
            core.defines.append("RLHASH_HAS_ZLIB=1")
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread"]

        if self.options.with_cuda:
            cuda = self.cpp_info.components["cuda"]
            cuda.set_property("cmake_target_name", "rlhash::cuda")
            cuda.set_property("pkg_config_name", "rlhash-cuda")
            cuda.bindirs = []
            cuda.libdirs = []
            cuda.requires = ["core"]
            cuda.defines = ["RLHASH_HAS_CUDA=1"]
            # From the system's CUDA toolkit; in rlhash-cuda.pc for pkg-config users, whose
            # compiler must find the toolkit's headers and libraries (-I/-L where it is not in the
            # default paths).
            cuda.system_libs = ["cudart", "cublas"]
            self.cpp_info.set_property("cmake_build_modules", [self._cuda_module])
