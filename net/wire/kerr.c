/*
 * kerr.c: names and messages of Kafka's error codes (kerr.h's table).
 */
#include "kerr.h"

const char *wire_err_name(int16_t code)
{
	switch (code) {
#define WIRE_ERR_NAME(name, c, msg) \
	case (c):                   \
		return #name;
		WIRE_ERR_LIST(WIRE_ERR_NAME)
#undef WIRE_ERR_NAME
	default:
		return "UNKNOWN_ERROR_CODE";
	}
}

const char *wire_err_message(int16_t code)
{
	switch (code) {
#define WIRE_ERR_MSG(name, c, msg) \
	case (c):                  \
		return msg;
		WIRE_ERR_LIST(WIRE_ERR_MSG)
#undef WIRE_ERR_MSG
	default:
		return "";
	}
}
