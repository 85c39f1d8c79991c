// SPDX-License-Identifier: GPL-2.0
/*
 * linebuf.so: LD_PRELOADed into the library's example runner in the test
 * guest so that its stdout is line-buffered even into a pipe. Without it a
 * program killed by the runner's timeout would lose the output it had
 * buffered, which is the output needed to see where it hung.
 */
#include <stdio.h>

__attribute__((constructor)) static void qda_linebuf(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}
