# SPDX-License-Identifier: MIT
# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): strip the staged ELF
# files as Debian's dh_strip does. CPACK_STRIP_FILES runs a bare strip,
# which leaves the compiler's .comment section (lintian:
# binary-has-unneeded-section); shared objects also lose their unneeded
# symbols. The GNU build ID note stays.
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(f ${staged})
  if(IS_SYMLINK "${f}")
    continue()
  endif()
  file(READ "${f}" magic LIMIT 4 HEX)
  if(NOT magic STREQUAL "7f454c46") # "\177ELF"
    continue()
  endif()
  set(args --remove-section=.comment --remove-section=.note)
  if(f MATCHES "\\.so$")
    list(APPEND args --strip-unneeded)
  endif()
  execute_process(COMMAND "${CPACK_TCPWM_STRIP}" ${args} "${f}" COMMAND_ERROR_IS_FATAL ANY)
endforeach()
