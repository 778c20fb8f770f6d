package netsensor

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type tcp_rec -type dns_rec -type dns_query_rec -type udp_key -type udp_total net ../../../bpf/net.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3 -DVIGIL_NET_COMPAT" -target amd64 netCompat ../../../bpf/net.bpf.c -- -I../../../bpf -I../../../bpf/include -I../../../bpf/include/x86
