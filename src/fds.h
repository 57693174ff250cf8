/*
 * fds.h: descriptors 0, 1 and 2.
 */
#ifndef CL_FDS_H
#define CL_FDS_H

/*
 * Makes sure 0, 1 and 2 are open before anything else is opened: a closed one gets a
 * pipe end that fails reads or writes with EBADF, as the closed descriptor would (no
 * /dev/null needed). Returns 0, or -1 when no pipe can be made.
 */
int	fds_hold_std(void);

/* Lets go of the caller's 0, 1 and 2 (a keeper must not hold a CI step's output open). */
int	fds_detach_std(void);

#endif
