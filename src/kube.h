/*
 * kube.h: the few Kubernetes API calls the lock makes, on one ConfigMap.
 *
 * Every call reports its own failure once, naming server, verb and resource, with the
 * server's Status reason and message (sanitised), e.g. "https://10.0.0.1:6443: update
 * configmaps/carrier-lock in namespace locks: 403 Forbidden: User \"ci\" cannot ...".
 * KUBE_NOT_FOUND and KUBE_CONFLICT are outcomes, not errors, and are not logged.
 */
#ifndef CL_KUBE_H
#define CL_KUBE_H

#include <stdint.h>

struct kcfg;

enum kube_rc {
	KUBE_OK,
	KUBE_NOT_FOUND,		/* 404 */
	KUBE_CONFLICT,		/* 409: resourceVersion changed, or create of an existing one */
	KUBE_UNAVAILABLE,	/* transport failure, 429, 5xx: worth retrying (logged) */
	KUBE_ERR,		/* anything else: 401, 403, 400, 422, bad reply (logged) */
	KUBE_INTR,		/* interrupted by a signal (not logged) */
};

/* The data keys of the lock's ConfigMap. */
#define KUBE_KEY_HOLDER	"holder"	/* the holder's record (JSON); absent when free */
#define KUBE_KEY_FENCE	"fence"		/* the last fencing token handed out */

/* Longest resourceVersion taken (etcd's are up to 20 digits); a longer one is a bad reply. */
#define KUBE_RV_MAX	63

struct kube_cm {
	char		*rv;		/* metadata.resourceVersion, 1 to KUBE_RV_MAX bytes */
	char		*holder;	/* data.holder, or NULL */
	char		*fence;		/* data.fence, or NULL */
	char		*labels;	/* raw JSON of metadata.labels, kept on update; or NULL */
	char		*annotations;	/* the same for metadata.annotations */
	char		*list_rv;	/* kube_cm_list: the list's resourceVersion, to watch from
					   (1 to KUBE_RV_MAX bytes) */
	int64_t		 written;	/* when the server last changed it (the newest
					   metadata.managedFields[].time, epoch s), 0 unknown */
	int64_t		 server_now;	/* get/list: the reply's Date (epoch s), 0 unknown */
};

struct kube;

/*
 * Returns NULL on out of memory or, for a kubeconfig's own (static) credentials, when its
 * CA, certificate or key cannot be used (logged). Does not own k, which must outlive it.
 * Credentials are obtained (cred.h) before each request; one that fails to be obtained
 * fails that call with KUBE_ERR or KUBE_WATCH_ERR (logged), or their INTR on a signal.
 */
struct kube	*kube_new(const struct kcfg *k, int64_t timeout_ms);
void		 kube_free(struct kube *);
/* Seconds the server last asked us to wait (Retry-After), 0 if none. */
unsigned	 kube_retry_after(const struct kube *);
/* No call runs past clock_ms() deadline limit (CLOCK_NEVER: each has its timeout only). */
void		 kube_set_limit(struct kube *, int64_t limit);

void		 kube_cm_clear(struct kube_cm *);

/* GET. On KUBE_OK fills cm (clear it with kube_cm_clear). */
enum kube_rc	 kube_cm_get(struct kube *, const char *ns, const char *name, struct kube_cm *cm);
/*
 * The same read as a list with a field selector on the name, which also gives the
 * collection's current resourceVersion (cm->list_rv): a watch started from it is valid
 * even when the object's own version is older than the server's watch window (after an
 * API server restart, the object's version is answered with 410 Gone). KUBE_NOT_FOUND
 * when the list is empty (cm->list_rv is set then too).
 */
enum kube_rc	 kube_cm_list(struct kube *, const char *ns, const char *name, struct kube_cm *cm);
/* Every ConfigMap of a namespace (or of all), for `list`. */
#define KUBE_CM_LIST_MAX	5000	/* most ConfigMaps one list takes; more is an error */

struct kube_cm_entry {
	char		*ns;		/* metadata.namespace */
	char		*name;		/* metadata.name */
	struct kube_cm	 cm;
};

struct kube_cms {
	struct kube_cm_entry	*v;
	size_t			 n;
	int64_t			 server_now;	/* the reply's Date (epoch s), 0 unknown */
};

/* GET the ConfigMaps of ns (NULL: all namespaces). On KUBE_OK clear *out after. */
enum kube_rc	 kube_cm_list_all(struct kube *, const char *ns, struct kube_cms *out);
void		 kube_cms_clear(struct kube_cms *);
/*
 * POST a new ConfigMap with the given data (holder may be NULL). KUBE_CONFLICT if it
 * exists. now as for kube_cm_update.
 */
enum kube_rc	 kube_cm_create(struct kube *, const char *ns, const char *name,
		    const char *holder, const char *fence, struct kube_cm *now);
/*
 * PUT, conditional on old->rv: data becomes exactly {holder (unless NULL), fence}; labels
 * and annotations are kept. KUBE_CONFLICT if the object changed since old was read.
 * When now is not NULL and the write succeeds, it gets the object as written; a reply
 * that does not describe it (logged) leaves now empty (rv NULL): the write still landed.
 */
enum kube_rc	 kube_cm_update(struct kube *, const char *ns, const char *name,
		    const struct kube_cm *old, const char *holder, const char *fence,
		    struct kube_cm *now);

enum kube_watch_rc {
	KUBE_WATCH_CHANGED,	/* the ConfigMap was modified or deleted: read it again */
	KUBE_WATCH_DEADLINE,	/* deadline reached with no change */
	KUBE_WATCH_RESTART,	/* stream ended, 410 Gone or an ERROR event: re-read, re-watch */
	KUBE_WATCH_UNAVAILABLE,	/* transport failure or 429/5xx (logged) */
	KUBE_WATCH_ERR,		/* 401/403/bad reply (logged) */
	KUBE_WATCH_INTR,	/* interrupted by a signal */
};

/*
 * Opens a watch of ns/name from resourceVersion rv on a connection of its own, asking
 * the server to end it by "until" (at most 15 minutes ahead). from_object: rv is the
 * object's own (a GET's), which the server's watch window may no longer reach (a lock
 * held for hours on a busy cluster: 410, then a list and a second watch); the watch then
 * starts with the object as it is now (an ADDED event; none, and the end is a deletion),
 * where the server can (WatchList, Kubernetes 1.27), else from rv as before. Returns
 * KUBE_WATCH_CHANGED when the stream is open (read it with kube_watch_next), else why not.
 */
enum kube_watch_rc kube_watch_open(struct kube *, const char *ns, const char *name,
		    const char *rv, int from_object, int64_t until);
/*
 * Waits for the next change on the open watch, skipping bookmarks. When the credentials
 * are due to be renewed (cred_due) before deadline, the watch ends then, as
 * KUBE_WATCH_RESTART, so that the next request and watch carry new ones. KUBE_WATCH_CHANGED
 * fills cm with the ConfigMap as changed (clear it after); it and KUBE_WATCH_DEADLINE
 * leave the stream open (call again, or kube_watch_close); every other result closes it.
 * A deletion is KUBE_WATCH_RESTART.
 */
enum kube_watch_rc kube_watch_next(struct kube *, int64_t deadline, struct kube_cm *cm);
void		 kube_watch_close(struct kube *);

/*
 * The waiters' queue: one coordination.k8s.io/v1 Lease per waiter, labelled
 * KUBE_LEASE_LABEL=<the lock's label value> and annotated with the lock's full name, the
 * waiter's record and its ticket. What those mean is lock_queue.c's; these calls only
 * store and read them. Failures are reported as for ConfigMaps ("create leases ...").
 */
#define KUBE_LEASE_LABEL	"carrier-lock.io/lock"
#define KUBE_LEASE_MAX		1000	/* most Leases one list takes; more is an error */

struct kube_lease {
	char		*ns;		/* metadata.namespace */
	char		*name;		/* metadata.name (1 to 253 bytes) */
	char		*rv;		/* metadata.resourceVersion (1 to KUBE_RV_MAX bytes) */
	char		*lock;		/* annotation: the lock's name, or NULL */
	char		*record;	/* annotation: the waiter's record, or NULL */
	uint64_t	 ticket;	/* annotation, else rv as a number (a Lease never updated
					   has the revision of its creation); 0 when neither is */
	int64_t		 duration_s;	/* spec.leaseDurationSeconds, 0 when absent */
	int64_t		 written;	/* newest managedFields time (epoch s), 0 unknown */
	int64_t		 created;	/* metadata.creationTimestamp (epoch s), 0 unknown */
};

struct kube_leases {
	struct kube_lease	*v;
	size_t			 n;
	int64_t			 server_now;	/* the reply's Date (epoch s), 0 unknown */
	uint64_t		 rv;		/* the list's resourceVersion as a number (what
						   the answer is as of), 0 unknown */
};

void		 kube_lease_clear(struct kube_lease *);
void		 kube_leases_clear(struct kube_leases *);
/*
 * POST a Lease named PREFIX plus a suffix the server chooses (metadata.generateName),
 * labelled label, with the annotations lock and record, leaseDurationSeconds duration_s
 * and holderIdentity holder. On KUBE_OK *out is the Lease as created (clear it after).
 */
enum kube_rc	 kube_lease_create(struct kube *, const char *ns, const char *prefix,
		    const char *label, const char *lock, const char *record,
		    int64_t duration_s, const char *holder, struct kube_lease *out);
/*
 * PUT l again, conditional on l->rv, with a new renewTime and the annotation ticket =
 * l->ticket (labels as label, holderIdentity holder). On KUBE_OK l->rv and l->written
 * are the new ones. KUBE_NOT_FOUND: deleted; KUBE_CONFLICT: changed by someone else.
 */
enum kube_rc	 kube_lease_renew(struct kube *, const char *label, const char *holder,
		    struct kube_lease *l);
/*
 * GET the Leases labelled label (NULL: every Lease with the label KUBE_LEASE_LABEL) in ns
 * (NULL: in all namespaces). On KUBE_OK *out holds them (clear it after). A consistent
 * list (cached 0) is served once the API server's watch cache has caught up with etcd,
 * which can take up to its progress-request period (100 ms) after a write elsewhere;
 * cached 1 takes the cache as it is (resourceVersion=0): at once, but possibly a few
 * milliseconds behind.
 */
enum kube_rc	 kube_lease_list(struct kube *, const char *ns, const char *label,
		    int cached, struct kube_leases *out);
/* DELETE ns/name, only while its resourceVersion is rv (NULL: any). 404 is KUBE_NOT_FOUND. */
enum kube_rc	 kube_lease_delete(struct kube *, const char *ns, const char *name,
		    const char *rv);

#endif
