/**
 * The line a page shows about the other people attached to its session (issue #16): who watches,
 * who may type. Names come from the gateway and are shown as text, never as markup.
 */
import type { Participant } from '../../../shared/src/protocol/ssh-v1.js';

export function describeParticipants(list: readonly Participant[]): string {
  const you = list.find((p) => p.you);
  const yours = you && !you.owner ? [you.mode === 'drive' ? 'You can type' : 'You are watching'] : [];
  const others = list
    .filter((p) => !p.you)
    .map((p) => (p.owner ? `${p.name} owns this session` : p.mode === 'drive' ? `${p.name} can type` : `${p.name} is watching`));
  return [...yours, ...others].join(' · ');
}
