/* One vtest client connection: its protocol loop and its renderer context. */
#ifndef PV_VTEST_VTEST_CLIENT_H
#define PV_VTEST_VTEST_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "vtest/vtest_backend.h"

/* Serves the connection until it closes or misbehaves, then destroys the
 * client's context and everything it held. Returns true for a clean close,
 * false when the client was dropped for an error (logged). The caller
 * owns and closes fd. */
bool vtest_client_serve(int fd, uint32_t client_id, const struct vtest_backend *backend);

#endif
