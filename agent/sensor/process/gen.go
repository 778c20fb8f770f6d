package process

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type exec_rec -type exit_rec -type fork_rec process ../../../bpf/process.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
