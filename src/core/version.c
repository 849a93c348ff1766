/* version.c - the version of the linked library. */
#include "inference.h"

const char *inf_version(void) { return INF_VERSION; }
int inf_version_number(void) { return INF_VERSION_NUMBER; }
