/** The list of command modules; each exports `register(program, ctx)`. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { register as acl } from './acl.ts';
import { register as backup } from './backup.ts';
import { register as benchmark } from './benchmark.ts';
import { register as key } from './key.ts';
import { register as restore } from './restore.ts';
import { register as snapshot } from './snapshot.ts';
import { register as datastore } from './datastore.ts';
import { register as gc } from './gc.ts';
import { register as prune } from './prune.ts';
import { register as task } from './task.ts';
import { register as verify } from './verify.ts';
import { register as serve } from './serve.ts';
import { register as user } from './user.ts';
import { register as status } from './status.ts';
import { register as list } from './list.ts';
import { register as s3 } from './s3.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const COMMANDS: readonly RegisterCommand[] = [serve, datastore, s3, user, acl, backup, restore, list, snapshot, status, prune, gc, verify, task, key, benchmark];
