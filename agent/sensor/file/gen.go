package file

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type file_rec -type rename_rec -type prefix file ../../../bpf/file.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
