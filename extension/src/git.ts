// The part of VS Code's built-in git extension API (`vscode.git`, API version 1) that cairn uses,
// declared as in its published `git.d.ts`.

import type { Event, Uri } from 'vscode';

export interface Commitish {
  readonly name?: string;
  readonly commit?: string;
}

export interface Remote {
  readonly name: string;
  readonly fetchUrl?: string;
  readonly pushUrl?: string;
}

export interface RepositoryState {
  readonly HEAD: Commitish | undefined;
  readonly remotes: Remote[];
  readonly onDidChange: Event<void>;
}

export interface Repository {
  readonly rootUri: Uri;
  readonly state: RepositoryState;
}

export interface API {
  readonly git: { readonly path: string };
  readonly repositories: Repository[];
  readonly onDidOpenRepository: Event<Repository>;
  readonly onDidCloseRepository: Event<Repository>;
}

export interface GitExtension {
  getAPI(version: 1): API;
}
