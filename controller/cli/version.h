/* version: the one place drover's version string is set. */
#ifndef DROVER_VERSION_H
#define DROVER_VERSION_H
#define DROVER_VERSION "0.1.0"
#endif
