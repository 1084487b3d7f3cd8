# The C core for wasm32 (WASI), with Debian's clang, lld and wasi-libc:
#   apt-get install clang lld-14 wasi-libc libclang-rt-14-dev-wasm32
#   cmake -S . -B build/wasm --toolchain cmake/toolchains/wasm32-wasi.cmake && cmake --build build/wasm
#   node tools/run_wasi.mjs build/wasm/kfann_tests
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_CROSSCOMPILING_EMULATOR node;${CMAKE_CURRENT_LIST_DIR}/../../tools/run_wasi.mjs)
