"""How a meeting decides on a grant: the meeting's quorum and resident share, the votes of the members
present (or the tally of an anonymous vote), and the members who do not vote for a conflict of interest.

A member present is conflicted on an initiative when they are its initiator (their account proposed it,
or their e-mail address or name is the initiator's) or they declared a link at the meeting. They are
recorded as recused with the reason; a vote sent for them is refused (409 conflict_of_interest) and
nothing is written. Every other member present who is still a member votes: for, against or abstain.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import FieldError, ValidationFailed
from app.domain.initiatives import meeting_repository as meeting_repo
from app.domain.initiatives import rules
from app.domain.initiatives.meeting_repository import Attendee, DecidingMeeting
from app.domain.initiatives.models import Ballot, ConflictOfInterest, Initiative, Vote
from app.domain.initiatives.schemas import GrantDecisionIn, VoteIn

BallotRow = tuple[uuid.UUID, Ballot, ConflictOfInterest | None]  # (attendance id, ballot, conflict)


@dataclass(frozen=True, slots=True)
class CountedVote:
    """A meeting's decision on one initiative, ready to be written with the grant."""

    meeting_id: uuid.UUID
    votes_for: int
    votes_against: int
    votes_abstain: int
    ballots: list[BallotRow]

    @property
    def outcome(self) -> str:
        return rules.outcome_of(self.votes_for, self.votes_against)


def _refused(field: str, message: str, rule: str) -> ValidationFailed:
    return ValidationFailed([FieldError(("input", field), message, rule)])


def _same(left: str | None, right: str | None) -> bool:
    return left is not None and right is not None and left.strip().casefold() == right.strip().casefold()


def conflict_of(
    attendee: Attendee, initiative: Initiative, declared: set[uuid.UUID]
) -> ConflictOfInterest | None:
    proposed = initiative.proposed_by is not None and attendee.user_id == initiative.proposed_by
    if proposed or _same(attendee.email, initiative.initiator_email):
        return ConflictOfInterest.initiator
    if _same(attendee.display_name, initiative.initiator_name):
        return ConflictOfInterest.initiator
    if attendee.member_id in declared:
        return ConflictOfInterest.declared
    return None


async def count_votes(session: AsyncSession, initiative: Initiative, data: GrantDecisionIn) -> CountedVote:
    """The meeting's votes on ``initiative``, checked against the meeting and the network's rules."""
    meeting = await meeting_repo.deciding_meeting(session, data.meeting_id)
    if meeting is None or meeting.network_id != initiative.network_id:
        raise _refused("meeting_id", "No meeting of this network has this id.", "unknown_meeting")
    rules.check_meeting_can_decide(
        meeting.present_count, meeting.resident_count, meeting.quorum_members, meeting.resident_share_percent
    )
    present = {a.member_id: a for a in meeting.attendees if a.member_id is not None}  # still members
    declared = set(data.declared_conflicts)
    if not declared <= present.keys():
        raise _refused("declared_conflicts", "Only members present declare a conflict.", "member_not_present")
    conflicts = {
        a.attendance_id: c
        for a in meeting.attendees
        if (c := conflict_of(a, initiative, declared)) is not None
    }
    recusals: list[BallotRow] = [
        (attendance, Ballot.recused, conflict) for attendance, conflict in conflicts.items()
    ]
    voters = [a for a in present.values() if a.attendance_id not in conflicts]
    if meeting.anonymous_voting:
        return _tallied(meeting, data, len(voters), recusals)
    return _named(meeting, data, voters, present, conflicts, recusals)


def _tallied(
    meeting: DecidingMeeting,
    data: GrantDecisionIn,
    voters: int,
    recusals: list[BallotRow],
) -> CountedVote:
    tally = data.tally
    if tally is None:
        raise _refused("tally", "This network votes anonymously: send the tally.", "tally_required")
    if tally.votes_for + tally.votes_against + tally.votes_abstain != voters:
        raise _refused(
            "tally", "The tally counts every member present who may vote, once.", "tally_does_not_add_up"
        )
    return CountedVote(meeting.id, tally.votes_for, tally.votes_against, tally.votes_abstain, recusals)


def _named(
    meeting: DecidingMeeting,
    data: GrantDecisionIn,
    voters: list[Attendee],
    present: dict[uuid.UUID, Attendee],
    conflicts: dict[uuid.UUID, ConflictOfInterest],
    recusals: list[BallotRow],
) -> CountedVote:
    votes: list[VoteIn] | None = data.votes
    if votes is None:
        raise _refused(
            "votes", "This network votes by name: send each present member's vote.", "votes_required"
        )
    cast: dict[uuid.UUID, Vote] = {}
    for vote in votes:
        attendee = present.get(vote.member_id)
        if attendee is None:
            raise _refused("votes", "Only members present at the meeting vote.", "member_not_present")
        if vote.member_id in cast:
            raise _refused("votes", "A member votes once.", "duplicate_vote")
        rules.check_not_conflicted(attendee.attendance_id in conflicts)
        cast[vote.member_id] = vote.vote
    if len(cast) != len(voters):
        raise _refused(
            "votes", "Every member present who may vote has a vote (for, against, abstain).", "vote_missing"
        )
    ballots = [(present[m].attendance_id, Ballot(v.value), None) for m, v in cast.items()]
    counts = {choice: sum(1 for v in cast.values() if v is choice) for choice in Vote}
    return CountedVote(
        meeting.id, counts[Vote.for_], counts[Vote.against], counts[Vote.abstain], [*ballots, *recusals]
    )
