# embed_dialects.cmake: writes OUTPUT, a C source holding every file of
# INPUTS (a ;-list of dialect JSON files) as a NUL-terminated byte array, in
# order. The JSON files stay the one source of truth for the built-in
# dialects; this only carries them into the library.
#
#   cmake -DOUTPUT=<file.c> -DINPUTS=<a.json;b.json> -P embed_dialects.cmake
set(out "/* Generated from iso8583/dialects/ by iso8583/embed_dialects.cmake: do not edit. */\n")
string(APPEND out "#include \"iso8583_internal.h\"\n\n")
set(table "")
set(index 0)
foreach(input ${INPUTS})
  file(READ ${input} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR bytes "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  get_filename_component(name ${input} NAME)
  string(APPEND out "/* ${name} */\nstatic const char dialect_${index}[] = {\n\t${hex}0x00};\n\n")
  string(APPEND table "\t{\"${name}\", dialect_${index}, ${bytes}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND out "const struct iso8583_embedded iso8583_embedded_dialects[] = {\n${table}};\n")
string(APPEND out "const size_t iso8583_embedded_dialect_count = ${index};\n")
file(WRITE ${OUTPUT}.tmp "${out}")
# Rewrite only on change, so an unchanged dialect does not rebuild the library.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
file(REMOVE ${OUTPUT}.tmp)
