# The MPI component, rlhash::mpi (include/rlhash/dist/): sharded search, distributed encoding and
# evaluation over MPI. Optional: the core never includes MPI, and without an MPI implementation
# the component is simply absent (RLHASH_WITH_MPI turns OFF with a status message).
option(RLHASH_WITH_MPI "Build the MPI component (rlhash::mpi) when MPI is found" ON)
if(RLHASH_WITH_MPI)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    add_library(rlhash_mpi INTERFACE)
    add_library(rlhash::mpi ALIAS rlhash_mpi)
    set_target_properties(rlhash_mpi PROPERTIES EXPORT_NAME mpi)
    target_link_libraries(rlhash_mpi INTERFACE rlhash::rlhash MPI::MPI_CXX)
    target_compile_definitions(rlhash_mpi INTERFACE RLHASH_HAS_MPI=1)
    message(STATUS "rlhash: MPI component on (MPI ${MPI_CXX_VERSION})")
  else()
    message(STATUS "rlhash: MPI not found; the MPI component (rlhash::mpi) is off")
  endif()
endif()
