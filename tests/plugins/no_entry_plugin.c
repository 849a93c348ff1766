/* no_entry_plugin.c - a shared object that is not a plug-in: it lacks
 * inf_plugin_init, so loading it must fail with a clear error. */
int no_entry_plugin_marker(void) { return 42; }
