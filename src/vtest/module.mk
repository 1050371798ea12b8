srcs-gpu += src/vtest/vtest_client.c src/vtest/vtest_sync.c src/vtest/vtest_timeline.c src/vtest/vtest_server.c \
	src/vtest/cmd_gpu_server.c
