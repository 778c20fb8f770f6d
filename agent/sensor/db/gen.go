package db

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type db_data_rec -type db_close_rec -type db_unix_rec db ../../../bpf/db.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3 -DVIGIL_NO_RDONLY_CAST" -target amd64 dbCompat ../../../bpf/db.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type lib_mapped_rec libwatch ../../../bpf/libwatch.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
