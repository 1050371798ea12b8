/*
 * The vtest socket protocol, version 3, as Mesa's Venus driver speaks it
 * (see docs/vtest-server.md). Every message is [u32 len, u32 cmd] followed
 * by len dwords (CREATE_RENDERER alone counts len in bytes). Shared by the
 * server and by our test clients.
 */
#ifndef PV_VTEST_VTEST_WIRE_H
#define PV_VTEST_VTEST_WIRE_H

#define VTEST_DEFAULT_SOCKET "/tmp/.virgl_test"
#define VTEST_PROTOCOL_VERSION 3

enum vtest_cmd {
	VTEST_CMD_GET_CAPS = 1,
	VTEST_CMD_RESOURCE_CREATE = 2,
	VTEST_CMD_RESOURCE_UNREF = 3,
	VTEST_CMD_TRANSFER_GET = 4,
	VTEST_CMD_TRANSFER_PUT = 5,
	VTEST_CMD_SUBMIT_CMD = 6,
	VTEST_CMD_RESOURCE_BUSY_WAIT = 7,
	VTEST_CMD_CREATE_RENDERER = 8,
	VTEST_CMD_GET_CAPS2 = 9,
	VTEST_CMD_PING_PROTOCOL_VERSION = 10,
	VTEST_CMD_PROTOCOL_VERSION = 11,
	VTEST_CMD_RESOURCE_CREATE2 = 12,
	VTEST_CMD_TRANSFER_GET2 = 13,
	VTEST_CMD_TRANSFER_PUT2 = 14,
	VTEST_CMD_GET_PARAM = 15,
	VTEST_CMD_GET_CAPSET = 16,
	VTEST_CMD_CONTEXT_INIT = 17,
	VTEST_CMD_RESOURCE_CREATE_BLOB = 18,
	VTEST_CMD_SYNC_CREATE = 19,
	VTEST_CMD_SYNC_UNREF = 20,
	VTEST_CMD_SYNC_READ = 21,
	VTEST_CMD_SYNC_WRITE = 22,
	VTEST_CMD_SYNC_WAIT = 23,
	VTEST_CMD_SUBMIT_CMD2 = 24,
};

#define VTEST_PARAM_MAX_TIMELINE_COUNT 1
#define VTEST_MAX_TIMELINES 64

#define VTEST_BLOB_TYPE_GUEST 1
#define VTEST_BLOB_TYPE_HOST3D 2
#define VTEST_BLOB_TYPE_HOST3D_GUEST 3

#define VTEST_SYNC_WAIT_FLAG_ANY 1u
#define VTEST_SUBMIT_CMD2_FLAG_RING_IDX 1u

/* SUBMIT_CMD2 batch header fields, in dwords from the batch's start. Mesa
 * 25.x writes 6-dword headers; virglrenderer reads with an 8-dword stride
 * (room for v4's syncobj counts). The server accepts either. */
enum {
	VTEST_BATCH_FLAGS = 0,
	VTEST_BATCH_CMD_OFFSET = 1,
	VTEST_BATCH_CMD_SIZE = 2,
	VTEST_BATCH_SYNC_OFFSET = 3,
	VTEST_BATCH_SYNC_COUNT = 4,
	VTEST_BATCH_RING_IDX = 5,
};

#endif
