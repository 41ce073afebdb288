/* vmmctl's command layer, shared by the EFI and Linux builds (vmmctl.c). */
#ifndef VMMCTL_VMMCTL_H
#define VMMCTL_VMMCTL_H

/* Runs the commands in argv (argv[0] is the first command, not the program). many: several
 * commands in a row (the EFI load options), else exactly one. Returns the exit status: the
 * last command's (a guest's own, for start/run). */
int vmmctl_main(int argc, char **argv, int many);

#endif
