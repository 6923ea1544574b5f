/* compiler: the one compiler attribute every room uses. crd is the bottom room (everything
 * includes its types), so it lives here. */
#ifndef DROVER_CRD_COMPILER_H
#define DROVER_CRD_COMPILER_H

/* A fallible function's result must be looked at. */
#define DROVER_WUR __attribute__((warn_unused_result))

#endif
