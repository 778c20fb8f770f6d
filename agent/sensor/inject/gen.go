package inject

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type file_rec inject ../../../bpf/inject.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
