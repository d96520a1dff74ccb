/** The localStorage entry of the UI's small preferences (store/ui.ts), also read by the first
 * frame's script at build time (layout/firstFrame.ts), so both name it from here. */
export const UI_PREFS_KEY = "wxdesk.ui-prefs";
