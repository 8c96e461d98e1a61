/*
 * err.c: names and messages for enum sl_err, and the one errno -> sl_err mapping.
 *
 * Invariant: both tables are generated from SL_ERRORS, so they always have SL_ERR_COUNT
 * entries in enum order.
 */
#include "base.h"

#include <errno.h>

static const char *const err_names[] = {
#define SL_ERR_NAME(name, msg) #name,
        SL_ERRORS(SL_ERR_NAME)
#undef SL_ERR_NAME
};

static const char *const err_msgs[] = {
#define SL_ERR_MSG(name, msg) msg,
        SL_ERRORS(SL_ERR_MSG)
#undef SL_ERR_MSG
};

_Static_assert(SL_ARRAY_LEN(err_names) == SL_ERR_COUNT, "name table matches the enum");
_Static_assert(SL_ARRAY_LEN(err_msgs) == SL_ERR_COUNT, "message table matches the enum");
_Static_assert(SL_OK == 0, "SL_OK is zero");

const char *sl_err_name(enum sl_err e)
{
	if ((unsigned)e >= SL_ERR_COUNT)
		return "SL_E?";
	return err_names[e];
}

const char *sl_err_msg(enum sl_err e)
{
	if ((unsigned)e >= SL_ERR_COUNT)
		return "unknown error";
	return err_msgs[e];
}

enum sl_err sl_err_from_errno(int errno_value)
{
	switch (errno_value) {
	case 0:
		return SL_OK;
	case ENOENT:
		return SL_ENOENT;
	case EEXIST:
		return SL_EEXIST;
	case EACCES:
	case EPERM:
		return SL_EACCES;
	case ENOSPC:
		return SL_ENOSPC;
	case ENOMEM:
		return SL_ENOMEM;
	case EINVAL:
		return SL_EINVAL;
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return SL_EAGAIN;
	case ETIMEDOUT:
		return SL_ETIMEDOUT;
	case ECANCELED:
		return SL_ECANCELED;
	case ECONNRESET:
	case EPIPE:
		return SL_ECLOSED;
	case EADDRINUSE:
		return SL_EADDRINUSE;
	case ECONNREFUSED:
		return SL_ECONNREFUSED;
	case EIO:
		return SL_EIO;
	case EMFILE:
	case ENFILE:
		return SL_ELIMIT;
	default:
		return SL_ESYS;
	}
}
