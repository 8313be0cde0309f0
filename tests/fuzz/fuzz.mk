# tests/fuzz/fuzz.mk - builds the libFuzzer targets with clang (GNU make;
# called by `make fuzz` from the top Makefile, which passes the variables
# below).  The core sources are compiled once into OUT/obj with ASan and
# UBSan and libFuzzer's coverage instrumentation; each target links them.
#
#   SRC      the source tree          BUILD   the build tree (config.h)
#   OUT      where the programs go    TARGETS the target names
#   CORE_SRCS  core/*.c (and headers: filtered here)
#   DEP_CFLAGS, DEP_LIBS  the libraries' pkg-config flags; FCGI_LIBS
#   FUZZ_SAN the sanitizers (default address,undefined; `undefined` alone
#            for the long runs: two to four times as many inputs a second)
CC_FUZZ ?= clang
FUZZ_SAN ?= address,undefined
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=$(FUZZ_SAN) \
	-fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = -I$(BUILD) -I$(SRC)/include -I$(SRC)/fcgi \
	-DCONCORD_SYSCONFDIR='"/etc"' -DSRCDIR='"$(SRC)"' $(DEP_CFLAGS)
OBJ = $(OUT)/obj
CORE_OBJS = $(patsubst %.c,$(OBJ)/%.o,$(filter %.c,$(CORE_SRCS)))
HEADERS = $(wildcard $(SRC)/include/concord/*.h $(SRC)/core/*.h \
	$(SRC)/tests/fuzz/*.h) $(BUILD)/config.h

all: $(patsubst %,$(OUT)/fuzz_%,$(TARGETS))

$(OBJ)/%.o: $(SRC)/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC (fuzz) $<"
	@$(CC_FUZZ) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) \
		-c $< -o $@

# The query-string target also decodes with the service's own parser.
$(OUT)/fuzz_query: EXTRA_OBJS = $(OBJ)/fcgi/http.o
$(OUT)/fuzz_query: EXTRA_LIBS = $(FCGI_LIBS)
$(OUT)/fuzz_query: $(OBJ)/fcgi/http.o

$(OUT)/fuzz_%: $(SRC)/tests/fuzz/fuzz_%.c $(CORE_OBJS) $(HEADERS)
	@mkdir -p $(OUT)
	@echo "  CCLD (fuzz) $@"
	@$(CC_FUZZ) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) $< \
		$(EXTRA_OBJS) $(CORE_OBJS) $(DEP_LIBS) $(EXTRA_LIBS) -o $@

.PHONY: all
# keep the objects between builds
.SECONDARY:
