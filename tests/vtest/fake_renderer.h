/*
 * A scripted stand-in for the Venus renderer, linked only into the vtest
 * server's unit test. Command streams are sequences of FAKE_OP_* dwords so
 * a test can create and destroy "objects" and make the stream malformed.
 * Fences on ring 0 retire at once; on other rings a per-context thread
 * retires them shortly after, like a GPU queue would.
 */
#ifndef PV_TESTS_FAKE_RENDERER_H
#define PV_TESTS_FAKE_RENDERER_H

#include "vtest/vtest_backend.h"

#define FAKE_OP_CREATE 0xc0de0001u
#define FAKE_OP_DESTROY 0xc0de0002u
#define FAKE_OP_NOP 0xc0de0003u
/* Aborts the process serving the context: a host driver crashing. */
#define FAKE_OP_CRASH 0xc0de0004u
/* Loses the context the way a host device loss does: not the stream's
 * fault (venus_context_device_lost). */
#define FAKE_OP_LOSE_DEVICE 0xc0de0005u
/* Anything else is a malformed stream: the context is lost. */

#define FAKE_CAPSET_SIZE 160

extern const struct vtest_backend fake_backend;
/* Contexts currently alive (created and not yet destroyed) in this
 * process: under process isolation they live in the client processes. */
int fake_live_contexts(void);
/* Total fences retired through callbacks since start. */
unsigned long fake_fences_retired(void);

#endif
