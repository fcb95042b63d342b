/*
 * rally_platform_hooks — Rally's own stand-in for what supautils does on a Supabase project.
 *
 * On the platform `postgres` is not a superuser, yet it may create allow-listed extensions,
 * manage policies on some Auth/Storage/Realtime tables it does not own, create publications and
 * event triggers, and set a few superuser-only settings; and nobody but a superuser may touch the
 * platform's own roles. supautils (github.com/supabase/supautils) does that with a ProcessUtility
 * hook configured from postgresql.conf. This library is written from supautils' documented
 * behaviour and reads the same `supautils.*` settings, so the platform's configuration applies
 * unchanged (and SQL that consults `current_setting('supautils.…')` sees the platform's values).
 * It contains no supautils code. Local/CI only: the platform runs the real supautils.
 *
 * What it does, statement by statement (only for roles that are not superusers):
 *   CREATE/ALTER/DROP EXTENSION, ALTER EXTENSION … SET SCHEMA, COMMENT ON EXTENSION
 *       run as `supautils.privileged_extensions_superuser` for extensions in
 *       `supautils.privileged_extensions` that are installed on disk; the schema may be forced by
 *       `supautils.extensions_parameter_overrides`; `<scripts path>/<ext>/after-create.sql` runs
 *       as that superuser after CREATE EXTENSION.
 *   CREATE/ALTER/DROP POLICY, COMMENT ON POLICY   on the tables `supautils.policy_grants` lists
 *       for a role the current user has the privileges of.
 *   DROP TRIGGER                                   on the tables `supautils.drop_trigger_grants` lists.
 *   CREATE/ALTER/DROP ROLE, RENAME, GRANT/REVOKE role
 *       refused for `supautils.reserved_roles` (an entry ending in `*` may still get settings from,
 *       and be granted roles by, the privileged role); GRANT of a role in
 *       `supautils.reserved_memberships` refused. The privileged role may ALTER/CREATE other roles
 *       with BYPASSRLS or REPLICATION (PostgreSQL 15 requires a superuser for those).
 *   SET / ALTER ROLE … SET                         of `supautils.privileged_role_allowed_configs`
 *       (an entry ending in `*` is a prefix) by the privileged role.
 *   CREATE PUBLICATION (owned by the creator), ALTER PUBLICATION, CREATE EVENT TRIGGER (owned by
 *       the creator; its function must not belong to a superuser) by the privileged role.
 * Event triggers whose function a superuser does not own never fire for superusers or reserved
 * roles (so a user's event trigger cannot act with their privileges); a superuser runs only the
 * event triggers of functions it owns itself.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/publicationcmds.h"
#include "commands/user.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/fd.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void _PG_init(void);

/* Settings, named as supautils names them so the platform's configuration file applies as is. */
static char *privileged_role = NULL;
static char *privileged_superuser = NULL;
static char *privileged_extensions = NULL;
static char *extension_scripts_path = NULL;
static char *privileged_role_allowed_configs = NULL;
static char *reserved_roles = NULL;
static char *reserved_memberships = NULL;
static char *policy_grants = NULL;
static char *drop_trigger_grants = NULL;
static char *extensions_parameter_overrides = NULL;

static ProcessUtility_hook_type next_utility_hook = NULL;
static needs_fmgr_hook_type next_needs_fmgr_hook = NULL;
static fmgr_hook_type next_fmgr_hook = NULL;

/* One ProcessUtility call, passed along unchanged (or with a copied, adjusted statement). */
typedef struct UtilityCall
{
	PlannedStmt *pstmt;
	const char *query_string;
	bool		read_only_tree;
	ProcessUtilityContext context;
	ParamListInfo params;
	QueryEnvironment *query_env;
	DestReceiver *dest;
	QueryCompletion *qc;
} UtilityCall;

/* ---------- lists and JSON settings ---------- */

typedef enum ListMatch
{
	LIST_NO_MATCH,
	LIST_EXACT,					/* an entry without `*` equals the name */
	LIST_STARRED				/* an entry ending in `*` matched */
} ListMatch;

/*
 * Looks `name` up in a comma-separated identifier list. An entry ending in `*` matches names that
 * start with its stem when `star_is_prefix`, and only the stem itself otherwise.
 */
static ListMatch
list_match(const char *name, const char *list, bool star_is_prefix)
{
	List	   *entries = NIL;
	ListCell   *cell;
	ListMatch	result = LIST_NO_MATCH;

	if (name == NULL || list == NULL || list[0] == '\0')
		return LIST_NO_MATCH;
	if (!SplitIdentifierString(pstrdup(list), ',', &entries))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("rally_platform_hooks: \"%s\" is not a comma-separated list of identifiers", list)));
	foreach(cell, entries)
	{
		const char *entry = (const char *) lfirst(cell);
		size_t		len = strlen(entry);

		if (len > 1 && entry[len - 1] == '*')
		{
			bool		matches = star_is_prefix
				? strncmp(name, entry, len - 1) == 0
				: (strlen(name) == len - 1 && strncmp(name, entry, len - 1) == 0);

			if (matches)
			{
				result = LIST_STARRED;
				break;
			}
		}
		else if (strcmp(name, entry) == 0)
		{
			result = LIST_EXACT;
			break;
		}
	}
	list_free(entries);
	return result;
}

static bool
in_list(const char *name, const char *list)
{
	return list_match(name, list, true) != LIST_NO_MATCH;
}

static Jsonb *
parse_json_setting(const char *value)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(value)));
}

static Oid
table_oid_from_text(const char *qualified_name)
{
	return RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(qualified_name)),
							NoLock, true);
}

/*
 * `setting` is {"role": ["schema.table", …], …}: true when the current user has the privileges of
 * one of the roles whose list names the table `relid`.
 */
static bool
current_user_granted_table(const char *setting, Oid relid)
{
	Jsonb	   *json;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	int			depth = 0;
	bool		role_applies = false;

	if (setting == NULL || setting[0] == '\0' || !OidIsValid(relid))
		return false;
	json = parse_json_setting(setting);
	it = JsonbIteratorInit(&json->root);
	while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (token)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				depth++;
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				depth--;
				break;
			case WJB_KEY:
				if (depth == 1)
				{
					Oid			role = get_role_oid(pnstrdup(v.val.string.val, v.val.string.len), true);

					role_applies = OidIsValid(role) && has_privs_of_role(GetUserId(), role);
				}
				break;
			case WJB_ELEM:
				if (depth == 2 && role_applies && v.type == jbvString &&
					table_oid_from_text(pnstrdup(v.val.string.val, v.val.string.len)) == relid)
					return true;
				break;
			default:
				break;
		}
	}
	return false;
}

static bool
current_user_granted_range_var(const char *setting, RangeVar *table)
{
	return current_user_granted_table(setting, RangeVarGetRelid(table, NoLock, true));
}

/* A qualified name list whose last element names an object on a table (a policy, a trigger). */
static bool
current_user_granted_table_of(const char *setting, List *object_name)
{
	List	   *table_name = list_truncate(list_copy(object_name), list_length(object_name) - 1);

	return current_user_granted_range_var(setting, makeRangeVarFromNameList(table_name));
}

/* `supautils.extensions_parameter_overrides`: {"ext": {"schema": "…"}}. */
static char *
schema_override_for(const char *extname)
{
	Jsonb	   *json;
	JsonbValue	extension;
	JsonbValue	schema;

	if (extensions_parameter_overrides == NULL || extensions_parameter_overrides[0] == '\0')
		return NULL;
	json = parse_json_setting(extensions_parameter_overrides);
	if (!JB_ROOT_IS_OBJECT(json) ||
		getKeyJsonValueFromContainer(&json->root, extname, strlen(extname), &extension) == NULL ||
		extension.type != jbvBinary ||
		getKeyJsonValueFromContainer(extension.val.binary.data, "schema", strlen("schema"), &schema) == NULL ||
		schema.type != jbvString)
		return NULL;
	return pnstrdup(schema.val.string.val, schema.val.string.len);
}

/* ---------- roles ---------- */

static bool
current_user_is_privileged(void)
{
	Oid			role;

	if (privileged_role == NULL || privileged_role[0] == '\0')
		return false;
	role = get_role_oid(privileged_role, true);
	return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
}

static bool
role_is_privileged(const char *name)
{
	Oid			target = get_role_oid(name, true);
	Oid			role;

	if (privileged_role == NULL || privileged_role[0] == '\0' || !OidIsValid(target))
		return false;
	role = get_role_oid(privileged_role, true);
	return OidIsValid(role) && has_privs_of_role(target, role);
}

/* `configurable_ok`: an entry ending in `*` does not count as reserved (privileged role only). */
static bool
role_is_reserved(const char *name, bool configurable_ok)
{
	ListMatch	match = list_match(name, reserved_roles, false);

	return match == LIST_EXACT || (match == LIST_STARRED && !configurable_ok);
}

static void
refuse_reserved_role(const char *name)
{
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("\"%s\" is a reserved role, only superusers can modify it", name)));
}

static void
refuse_reserved_membership(const char *name)
{
	if (list_match(name, reserved_memberships, false) != LIST_NO_MATCH)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("\"%s\" role memberships are reserved, only superusers can grant them", name)));
}

static Oid
function_owner(Oid function)
{
	HeapTuple	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
	Oid			owner;

	if (!HeapTupleIsValid(proc))
		elog(ERROR, "cache lookup failed for function %u", function);
	owner = ((Form_pg_proc) GETSTRUCT(proc))->proowner;
	ReleaseSysCache(proc);
	return owner;
}

static Oid
platform_superuser(void)
{
	if (privileged_superuser != NULL && privileged_superuser[0] != '\0')
		return get_role_oid(privileged_superuser, false);
	return BOOTSTRAP_SUPERUSERID;
}

/* ---------- running the statement ---------- */

static void
run_next(const UtilityCall *call)
{
	if (next_utility_hook)
		next_utility_hook(call->pstmt, call->query_string, call->read_only_tree, call->context,
						  call->params, call->query_env, call->dest, call->qc);
	else
		standard_ProcessUtility(call->pstmt, call->query_string, call->read_only_tree, call->context,
								call->params, call->query_env, call->dest, call->qc);
}

typedef void (*ElevatedStep) (const UtilityCall *call, void *arg);

/* Runs `step` as the platform's superuser and always switches back, on error too. */
static void
as_superuser(ElevatedStep step, const UtilityCall *call, void *arg)
{
	Oid			saved_user;
	int			saved_context;

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(platform_superuser(),
						   saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		step(call, arg);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
}

static void
step_run_next(const UtilityCall *call, void *arg)
{
	run_next(call);
}

static void
run_next_as_superuser(const UtilityCall *call)
{
	as_superuser(step_run_next, call, NULL);
}

/* ---------- extensions ---------- */

static bool
extension_installed_on_disk(const char *extname)
{
	char		share_path[MAXPGPATH];
	char		control_file[MAXPGPATH];
	struct stat st;

	get_share_path(my_exec_path, share_path);
	snprintf(control_file, MAXPGPATH, "%s/extension/%s.control", share_path, extname);
	return stat(control_file, &st) == 0;
}

static bool
extension_is_privileged(const char *extname)
{
	return in_list(extname, privileged_extensions) && extension_installed_on_disk(extname);
}

static char *
read_text_file(const char *path)
{
	FILE	   *file = AllocateFile(path, PG_BINARY_R);
	StringInfoData text;
	char		buffer[8192];
	size_t		n;

	if (file == NULL)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not open \"%s\": %m", path)));
	initStringInfo(&text);
	while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0)
		appendBinaryStringInfo(&text, buffer, n);
	if (ferror(file))
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not read \"%s\": %m", path)));
	FreeFile(file);
	return text.data;
}

static void
step_run_script(const UtilityCall *call, void *arg)
{
	const char *sql = (const char *) arg;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rally_platform_hooks: SPI_connect failed");
	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		elog(ERROR, "rally_platform_hooks: extension script failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

static void
run_after_create_script(const UtilityCall *call, const char *extname)
{
	char		path[MAXPGPATH];
	struct stat st;

	if (extension_scripts_path == NULL || extension_scripts_path[0] == '\0')
		return;
	snprintf(path, MAXPGPATH, "%s/%s/after-create.sql", extension_scripts_path, extname);
	if (stat(path, &st) != 0)
		return;
	CommandCounterIncrement();
	as_superuser(step_run_script, call, read_text_file(path));
}

static void
override_extension_schema(CreateExtensionStmt *stmt)
{
	char	   *schema = schema_override_for(stmt->extname);
	ListCell   *cell;

	if (schema == NULL)
		return;
	foreach(cell, stmt->options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (strcmp(option->defname, "schema") == 0)
			stmt->options = foreach_delete_current(stmt->options, cell);
	}
	stmt->options = lappend(stmt->options, makeDefElem("schema", (Node *) makeString(schema), -1));
}

static void
handle_create_extension(UtilityCall *call)
{
	CreateExtensionStmt *stmt;

	if (call->read_only_tree)
	{
		call->pstmt = copyObject(call->pstmt);
		call->read_only_tree = false;
	}
	stmt = (CreateExtensionStmt *) call->pstmt->utilityStmt;
	override_extension_schema(stmt);
	if (!superuser() && extension_is_privileged(stmt->extname))
		run_next_as_superuser(call);
	else
		run_next(call);
	run_after_create_script(call, stmt->extname);
}

static bool
all_extensions_privileged(List *names)
{
	ListCell   *cell;

	foreach(cell, names)
	{
		if (!extension_is_privileged(strVal(lfirst(cell))))
			return false;
	}
	return names != NIL;
}

/* ---------- event triggers ---------- */

static Datum
event_trigger_skipped(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}

static bool
is_event_trigger_function(Oid function)
{
	return get_func_rettype(function) == EVENT_TRIGGEROID;
}

static bool
needs_fmgr(Oid function)
{
	if (next_needs_fmgr_hook && next_needs_fmgr_hook(function))
		return true;
	return is_event_trigger_function(function);
}

/* Decides, just before an event trigger function runs, whether it may run for this role. */
static void
fmgr_event(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (event == FHET_START && is_event_trigger_function(flinfo->fn_oid))
	{
		HeapTuple	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(flinfo->fn_oid));
		Form_pg_proc form;
		Oid			owner;
		Oid			role;
		bool		skip = false;

		if (!HeapTupleIsValid(proc))
			elog(ERROR, "cache lookup failed for function %u", flinfo->fn_oid);
		form = (Form_pg_proc) GETSTRUCT(proc);
		owner = form->proowner;
		/* a SECURITY DEFINER function runs as its owner; judge the role that fired it */
		role = form->prosecdef ? GetOuterUserId() : GetUserId();
		ReleaseSysCache(proc);

		if (superuser_arg(role))
			skip = !superuser_arg(owner) || role != owner;
		else if (role_is_reserved(GetUserNameFromId(role, false), false))
			skip = !superuser_arg(owner);
		if (skip)
		{
			flinfo->fn_addr = event_trigger_skipped;
			flinfo->fn_nargs = 0;
			flinfo->fn_strict = false;
			flinfo->fn_retset = false;
			flinfo->fn_extra = NULL;
		}
	}
	if (next_fmgr_hook)
		next_fmgr_hook(event, flinfo, private);
}

static void
set_superuser_attribute(Oid role, bool on)
{
	AlterRoleStmt *stmt = makeNode(AlterRoleStmt);
	RoleSpec   *spec = makeNode(RoleSpec);

	spec->roletype = ROLESPEC_CSTRING;
	spec->rolename = GetUserNameFromId(role, false);
	spec->location = -1;
	stmt->role = spec;
	stmt->action = 0;
	stmt->options = list_make1(makeDefElem("superuser", (Node *) makeBoolean(on), -1));
	AlterRole(NULL, stmt);
	CommandCounterIncrement();
}

typedef struct OwnedBy
{
	Oid			owner;
	const char *name;
} OwnedBy;

/* PostgreSQL requires an event trigger's owner to be a superuser at the moment it is assigned. */
static void
step_create_event_trigger(const UtilityCall *call, void *arg)
{
	OwnedBy    *target = (OwnedBy *) arg;

	run_next(call);
	CommandCounterIncrement();
	set_superuser_attribute(target->owner, true);
	AlterEventTriggerOwner(target->name, target->owner);
	set_superuser_attribute(target->owner, false);
}

static void
handle_create_event_trigger(const UtilityCall *call)
{
	CreateEventTrigStmt *stmt = (CreateEventTrigStmt *) call->pstmt->utilityStmt;
	Oid			function = LookupFuncName(stmt->funcname, 0, NULL, false);
	OwnedBy		target = {GetUserId(), stmt->trigname};

	if (superuser_arg(function_owner(function)))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("Non-superuser owned event trigger must execute a non-superuser owned function"),
						errdetail("The current user \"%s\" is not a superuser and the function \"%s\" is owned by a superuser",
								  GetUserNameFromId(GetUserId(), false), NameListToString(stmt->funcname))));
	as_superuser(step_create_event_trigger, call, &target);
}

static void
step_create_publication(const UtilityCall *call, void *arg)
{
	OwnedBy    *target = (OwnedBy *) arg;

	run_next(call);
	CommandCounterIncrement();
	AlterPublicationOwner(target->name, target->owner);
}

/* ---------- the hook ---------- */

static bool
option_present(List *options, const char *name)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		if (strcmp(lfirst_node(DefElem, cell)->defname, name) == 0)
			return true;
	}
	return false;
}

static bool
option_true(List *options, const char *name)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *option = lfirst_node(DefElem, cell);

		if (strcmp(option->defname, name) == 0 && defGetBoolean(option))
			return true;
	}
	return false;
}

/* Returns true when it ran the statement itself. */
static bool
handle_role_statement(const UtilityCall *call)
{
	Node	   *node = call->pstmt->utilityStmt;

	switch (nodeTag(node))
	{
		case T_AlterRoleStmt:
			{
				AlterRoleStmt *stmt = (AlterRoleStmt *) node;
				const char *name = get_rolespec_name(stmt->role);

				if (role_is_reserved(name, false))
					refuse_reserved_role(name);
				if (!current_user_is_privileged())
					return false;
				if (role_is_privileged(name))
					ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
									errmsg("permission denied to alter role"),
									errdetail("Only superusers can alter privileged roles.")));
				if (option_present(stmt->options, "superuser"))
					ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
									errmsg("permission denied to alter role"),
									errdetail("Only roles with the SUPERUSER attribute may alter roles with the SUPERUSER attribute.")));
				run_next_as_superuser(call);
				return true;
			}
		case T_AlterRoleSetStmt:
			{
				AlterRoleSetStmt *stmt = (AlterRoleSetStmt *) node;
				bool		privileged = current_user_is_privileged();
				const char *setting = stmt->setstmt ? stmt->setstmt->name : NULL;

				if (stmt->role == NULL)
					return false;
				if (role_is_reserved(get_rolespec_name(stmt->role), privileged))
					refuse_reserved_role(get_rolespec_name(stmt->role));
				if (!privileged || setting == NULL || !in_list(setting, privileged_role_allowed_configs))
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_CreateRoleStmt:
			{
				CreateRoleStmt *stmt = (CreateRoleStmt *) node;
				ListCell   *cell;

				if (OidIsValid(get_role_oid(stmt->role, true)))
					return false;	/* PostgreSQL's own "already exists" error */
				if (role_is_reserved(stmt->role, false))
					refuse_reserved_role(stmt->role);
				if (option_true(stmt->options, "superuser"))
					ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
									errmsg("permission denied to create role"),
									errdetail("Only roles with the SUPERUSER attribute may create roles with the SUPERUSER attribute.")));
				foreach(cell, stmt->options)
				{
					DefElem    *option = lfirst_node(DefElem, cell);
					ListCell   *member;

					if (strcmp(option->defname, "addroleto") != 0)
						continue;
					foreach(member, (List *) option->arg)
						refuse_reserved_membership(get_rolespec_name(lfirst_node(RoleSpec, member)));
				}
				if (!current_user_is_privileged())
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_DropRoleStmt:
			{
				ListCell   *cell;

				foreach(cell, ((DropRoleStmt *) node)->roles)
				{
					RoleSpec   *role = lfirst_node(RoleSpec, cell);

					if (role->roletype == ROLESPEC_CSTRING && role_is_reserved(role->rolename, false))
						refuse_reserved_role(role->rolename);
				}
				return false;
			}
		case T_GrantRoleStmt:
			{
				GrantRoleStmt *stmt = (GrantRoleStmt *) node;
				bool		privileged = current_user_is_privileged();
				ListCell   *cell;

				if (stmt->is_grant)
				{
					foreach(cell, stmt->granted_roles)
						refuse_reserved_membership(lfirst_node(AccessPriv, cell)->priv_name);
				}
				foreach(cell, stmt->grantee_roles)
				{
					const char *grantee = get_rolespec_name(lfirst_node(RoleSpec, cell));

					if (role_is_reserved(grantee, privileged))
						refuse_reserved_role(grantee);
				}
				return false;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) node;

				if (stmt->renameType != OBJECT_ROLE)
					return false;
				if (role_is_reserved(stmt->subname, false))
					refuse_reserved_role(stmt->subname);
				if (role_is_reserved(stmt->newname, false))
					refuse_reserved_role(stmt->newname);
				return false;
			}
		default:
			return false;
	}
}

/* Returns true when it ran the statement itself. */
static bool
handle_platform_statement(UtilityCall *call)
{
	Node	   *node = call->pstmt->utilityStmt;

	switch (nodeTag(node))
	{
		case T_AlterExtensionStmt:
			if (!extension_is_privileged(((AlterExtensionStmt *) node)->extname))
				return false;
			run_next_as_superuser(call);
			return true;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) node;

				if (stmt->objectType != OBJECT_EXTENSION || !extension_is_privileged(strVal(stmt->object)))
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_CreatePolicyStmt:
			if (!current_user_granted_range_var(policy_grants, ((CreatePolicyStmt *) node)->table))
				return false;
			run_next_as_superuser(call);
			return true;
		case T_AlterPolicyStmt:
			if (!current_user_granted_range_var(policy_grants, ((AlterPolicyStmt *) node)->table))
				return false;
			run_next_as_superuser(call);
			return true;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) node;
				bool		allowed = false;

				if (stmt->removeType == OBJECT_EXTENSION)
					allowed = all_extensions_privileged(stmt->objects);
				else if (stmt->removeType == OBJECT_POLICY && list_length(stmt->objects) == 1)
					allowed = current_user_granted_table_of(policy_grants, linitial_node(List, stmt->objects));
				else if (stmt->removeType == OBJECT_TRIGGER && list_length(stmt->objects) == 1)
					allowed = current_user_granted_table_of(drop_trigger_grants, linitial_node(List, stmt->objects));
				if (!allowed)
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_CommentStmt:
			{
				CommentStmt *stmt = (CommentStmt *) node;
				bool		allowed = false;

				if (stmt->objtype == OBJECT_POLICY)
					allowed = current_user_granted_table_of(policy_grants, castNode(List, stmt->object));
				else if (stmt->objtype == OBJECT_EXTENSION)
					allowed = current_user_is_privileged();
				if (!allowed)
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_VariableSetStmt:
			{
				VariableSetStmt *stmt = (VariableSetStmt *) node;

				if (stmt->name == NULL || !in_list(stmt->name, privileged_role_allowed_configs) ||
					!current_user_is_privileged())
					return false;
				run_next_as_superuser(call);
				return true;
			}
		case T_CreatePublicationStmt:
			{
				OwnedBy		target = {GetUserId(), ((CreatePublicationStmt *) node)->pubname};

				if (!current_user_is_privileged())
					return false;
				as_superuser(step_create_publication, call, &target);
				return true;
			}
		case T_AlterPublicationStmt:
			if (!current_user_is_privileged())
				return false;
			run_next_as_superuser(call);
			return true;
		case T_CreateEventTrigStmt:
			if (!current_user_is_privileged())
				return false;
			handle_create_event_trigger(call);
			return true;
		default:
			return handle_role_statement(call);
	}
}

static void
platform_utility_hook(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *query_env, DestReceiver *dest, QueryCompletion *qc)
{
	UtilityCall call = {pstmt, query_string, read_only_tree, context, params, query_env, dest, qc};

	/* CREATE EXTENSION gets its overrides and after-create script whoever runs it. */
	if (IsA(pstmt->utilityStmt, CreateExtensionStmt))
	{
		handle_create_extension(&call);
		return;
	}
	if (IsTransactionState() && !superuser() && handle_platform_statement(&call))
		return;
	run_next(&call);
}

/* ---------- settings ---------- */

static void
define_setting(const char *name, const char *description, char **variable)
{
	DefineCustomStringVariable(name, description, NULL, variable, NULL, PGC_SIGHUP, 0, NULL, NULL, NULL);
}

void
_PG_init(void)
{
	define_setting("supautils.privileged_role", "The non-superuser role that acts for the platform's superuser.",
				   &privileged_role);
	define_setting("supautils.privileged_extensions_superuser", "The superuser privileged operations run as.",
				   &privileged_superuser);
	define_setting("supautils.privileged_extensions", "Extensions the privileged role may create, alter and drop.",
				   &privileged_extensions);
	define_setting("supautils.privileged_extensions_custom_scripts_path",
				   "Directory of <extension>/after-create.sql scripts.", &extension_scripts_path);
	define_setting("supautils.privileged_role_allowed_configs",
				   "Superuser-only settings the privileged role may set.", &privileged_role_allowed_configs);
	define_setting("supautils.reserved_roles", "Roles only superusers may modify.", &reserved_roles);
	define_setting("supautils.reserved_memberships", "Roles only superusers may grant.", &reserved_memberships);
	define_setting("supautils.policy_grants", "Tables on which a role may manage policies without owning them.",
				   &policy_grants);
	define_setting("supautils.drop_trigger_grants", "Tables on which a role may drop triggers without owning them.",
				   &drop_trigger_grants);
	define_setting("supautils.extensions_parameter_overrides", "CREATE EXTENSION options forced per extension.",
				   &extensions_parameter_overrides);
	MarkGUCPrefixReserved("supautils");

	next_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = platform_utility_hook;
	next_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = needs_fmgr;
	next_fmgr_hook = fmgr_hook;
	fmgr_hook = fmgr_event;
}
