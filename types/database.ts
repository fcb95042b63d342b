export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      blocks: {
        Row: {
          blocked_id: string
          blocker_id: string
          created_at: string
        }
        Insert: {
          blocked_id: string
          blocker_id: string
          created_at?: string
        }
        Update: {
          blocked_id?: string
          blocker_id?: string
          created_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "blocks_blocked_id_fkey"
            columns: ["blocked_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "blocks_blocker_id_fkey"
            columns: ["blocker_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_seats: {
        Row: {
          attendee_name: string | null
          booking_id: string
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          created_at: string
          event_id: string
          holder_id: string | null
          seat_no: number
          updated_at: string
        }
        Insert: {
          attendee_name?: string | null
          booking_id: string
          check_in_code?: string
          checked_in_at?: string | null
          checked_in_by?: string | null
          created_at?: string
          event_id: string
          holder_id?: string | null
          seat_no: number
          updated_at?: string
        }
        Update: {
          attendee_name?: string | null
          booking_id?: string
          check_in_code?: string
          checked_in_at?: string | null
          checked_in_by?: string | null
          created_at?: string
          event_id?: string
          holder_id?: string | null
          seat_no?: number
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_seats_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_seats_checked_in_by_fkey"
            columns: ["checked_in_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_seats_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_seats_holder_id_fkey"
            columns: ["holder_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      booking_transfers: {
        Row: {
          booking_id: string
          created_at: string
          event_id: string
          expires_at: string
          from_user_id: string
          id: string
          responded_at: string | null
          seat_no: number | null
          status: string
          to_user_id: string
        }
        Insert: {
          booking_id: string
          created_at?: string
          event_id: string
          expires_at: string
          from_user_id: string
          id?: string
          responded_at?: string | null
          seat_no?: number | null
          status?: string
          to_user_id: string
        }
        Update: {
          booking_id?: string
          created_at?: string
          event_id?: string
          expires_at?: string
          from_user_id?: string
          id?: string
          responded_at?: string | null
          seat_no?: number | null
          status?: string
          to_user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "booking_transfers_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_transfers_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_transfers_from_user_id_fkey"
            columns: ["from_user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "booking_transfers_to_user_id_fkey"
            columns: ["to_user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      bookings: {
        Row: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        Insert: {
          amount_cents?: number
          cancel_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          check_in_code?: string
          checked_in_at?: string | null
          checked_in_by?: string | null
          confirmed_at?: string | null
          created_at?: string
          currency: string
          discount_cents?: number
          event_id: string
          guest_id: string
          hold_expires_at?: string | null
          id?: string
          idempotency_key?: string | null
          list_amount_cents?: never
          promo_code_id?: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at?: string
        }
        Update: {
          amount_cents?: number
          cancel_reason?: string | null
          cancelled_at?: string | null
          cancelled_by?: string | null
          check_in_code?: string
          checked_in_at?: string | null
          checked_in_by?: string | null
          confirmed_at?: string | null
          created_at?: string
          currency?: string
          discount_cents?: number
          event_id?: string
          guest_id?: string
          hold_expires_at?: string | null
          id?: string
          idempotency_key?: string | null
          list_amount_cents?: never
          promo_code_id?: string | null
          quantity?: number
          status?: string
          ticket_type_id?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "bookings_cancelled_by_fkey"
            columns: ["cancelled_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "bookings_checked_in_by_fkey"
            columns: ["checked_in_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "bookings_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "bookings_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "bookings_guest_id_fkey"
            columns: ["guest_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "bookings_promo_code_id_fkey"
            columns: ["promo_code_id"]
            isOneToOne: false
            referencedRelation: "promo_codes"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "bookings_ticket_type_id_fkey"
            columns: ["ticket_type_id"]
            isOneToOne: false
            referencedRelation: "ticket_types"
            referencedColumns: ["id"]
          },
        ]
      }
      conversation_members: {
        Row: {
          added_by: string | null
          conversation_id: string
          joined_at: string
          last_read_at: string | null
          last_read_message_id: string | null
          last_read_seq: number
          muted: boolean
          notified_at: string | null
          notified_seq: number
          role: string
          user_id: string
        }
        Insert: {
          added_by?: string | null
          conversation_id: string
          joined_at?: string
          last_read_at?: string | null
          last_read_message_id?: string | null
          last_read_seq?: number
          muted?: boolean
          notified_at?: string | null
          notified_seq?: number
          role?: string
          user_id: string
        }
        Update: {
          added_by?: string | null
          conversation_id?: string
          joined_at?: string
          last_read_at?: string | null
          last_read_message_id?: string | null
          last_read_seq?: number
          muted?: boolean
          notified_at?: string | null
          notified_seq?: number
          role?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversation_members_added_by_fkey"
            columns: ["added_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversation_members_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversation_members_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      conversations: {
        Row: {
          created_at: string
          created_by: string | null
          direct_user_high: string | null
          direct_user_low: string | null
          event_id: string | null
          id: string
          kind: string
          last_activity_at: string
          last_message_at: string | null
          last_seq: number
          title: string | null
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          direct_user_high?: string | null
          direct_user_low?: string | null
          event_id?: string | null
          id?: string
          kind: string
          last_activity_at?: string
          last_message_at?: string | null
          last_seq?: number
          title?: string | null
        }
        Update: {
          created_at?: string
          created_by?: string | null
          direct_user_high?: string | null
          direct_user_low?: string | null
          event_id?: string | null
          id?: string
          kind?: string
          last_activity_at?: string
          last_message_at?: string | null
          last_seq?: number
          title?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "conversations_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_direct_user_high_fkey"
            columns: ["direct_user_high"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_direct_user_low_fkey"
            columns: ["direct_user_low"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: true
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
        ]
      }
      currencies: {
        Row: {
          code: string
          minor_unit: number
          name: string
        }
        Insert: {
          code: string
          minor_unit: number
          name: string
        }
        Update: {
          code?: string
          minor_unit?: number
          name?: string
        }
        Relationships: []
      }
      event_cohosts: {
        Row: {
          added_by: string | null
          created_at: string
          event_id: string
          role: string
          user_id: string
        }
        Insert: {
          added_by?: string | null
          created_at?: string
          event_id: string
          role?: string
          user_id: string
        }
        Update: {
          added_by?: string | null
          created_at?: string
          event_id?: string
          role?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "event_cohosts_added_by_fkey"
            columns: ["added_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_cohosts_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_cohosts_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      event_invitations: {
        Row: {
          created_at: string
          event_id: string
          id: string
          invite_link_id: string | null
          invited_by: string | null
          notified_at: string | null
          responded_at: string | null
          status: string
          updated_at: string
          user_id: string
        }
        Insert: {
          created_at?: string
          event_id: string
          id?: string
          invite_link_id?: string | null
          invited_by?: string | null
          notified_at?: string | null
          responded_at?: string | null
          status?: string
          updated_at?: string
          user_id: string
        }
        Update: {
          created_at?: string
          event_id?: string
          id?: string
          invite_link_id?: string | null
          invited_by?: string | null
          notified_at?: string | null
          responded_at?: string | null
          status?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "event_invitations_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_invitations_invite_link_id_fkey"
            columns: ["invite_link_id"]
            isOneToOne: false
            referencedRelation: "event_invite_links"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_invitations_invited_by_fkey"
            columns: ["invited_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_invitations_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      event_invite_links: {
        Row: {
          created_at: string
          created_by: string | null
          event_id: string
          expires_at: string | null
          id: string
          max_uses: number | null
          revoked_at: string | null
          token: string
          uses: number
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          event_id: string
          expires_at?: string | null
          id?: string
          max_uses?: number | null
          revoked_at?: string | null
          token?: string
          uses?: number
        }
        Update: {
          created_at?: string
          created_by?: string | null
          event_id?: string
          expires_at?: string | null
          id?: string
          max_uses?: number | null
          revoked_at?: string | null
          token?: string
          uses?: number
        }
        Relationships: [
          {
            foreignKeyName: "event_invite_links_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_invite_links_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
        ]
      }
      event_series: {
        Row: {
          created_at: string
          created_by: string | null
          first_local_start: string
          host_id: string
          id: string
          occurrence_count: number
          rrule: string
          timezone: string
        }
        Insert: {
          created_at?: string
          created_by?: string | null
          first_local_start: string
          host_id: string
          id: string
          occurrence_count: number
          rrule: string
          timezone: string
        }
        Update: {
          created_at?: string
          created_by?: string | null
          first_local_start?: string
          host_id?: string
          id?: string
          occurrence_count?: number
          rrule?: string
          timezone?: string
        }
        Relationships: [
          {
            foreignKeyName: "event_series_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "event_series_host_id_fkey"
            columns: ["host_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      follows: {
        Row: {
          created_at: string
          followee_id: string
          follower_id: string
        }
        Insert: {
          created_at?: string
          followee_id: string
          follower_id: string
        }
        Update: {
          created_at?: string
          followee_id?: string
          follower_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "follows_followee_id_fkey"
            columns: ["followee_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "follows_follower_id_fkey"
            columns: ["follower_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      group_invitations: {
        Row: {
          conversation_id: string
          created_at: string
          expires_at: string
          id: string
          invited_by: string | null
          responded_at: string | null
          status: string
          user_id: string
        }
        Insert: {
          conversation_id: string
          created_at?: string
          expires_at?: string
          id?: string
          invited_by?: string | null
          responded_at?: string | null
          status?: string
          user_id: string
        }
        Update: {
          conversation_id?: string
          created_at?: string
          expires_at?: string
          id?: string
          invited_by?: string | null
          responded_at?: string | null
          status?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "group_invitations_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "group_invitations_invited_by_fkey"
            columns: ["invited_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "group_invitations_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      message_reactions: {
        Row: {
          conversation_id: string
          created_at: string
          emoji: string
          message_id: string
          user_id: string
        }
        Insert: {
          conversation_id: string
          created_at?: string
          emoji: string
          message_id: string
          user_id?: string
        }
        Update: {
          conversation_id?: string
          created_at?: string
          emoji?: string
          message_id?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "message_reactions_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "message_reactions_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "message_reactions_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      messages: {
        Row: {
          attachment_path: string | null
          body: string | null
          client_id: string | null
          conversation_id: string
          created_at: string
          data: Json | null
          deleted_at: string | null
          deleted_by: string | null
          duration_ms: number | null
          edited_at: string | null
          id: string
          kind: string
          remind_at: string | null
          reminded_at: string | null
          reply_to: string | null
          sender_id: string | null
          seq: number
          shared_event_id: string | null
        }
        Insert: {
          attachment_path?: string | null
          body?: string | null
          client_id?: string | null
          conversation_id: string
          created_at?: string
          data?: Json | null
          deleted_at?: string | null
          deleted_by?: string | null
          duration_ms?: number | null
          edited_at?: string | null
          id?: string
          kind?: string
          remind_at?: string | null
          reminded_at?: string | null
          reply_to?: string | null
          sender_id?: string | null
          seq: number
          shared_event_id?: string | null
        }
        Update: {
          attachment_path?: string | null
          body?: string | null
          client_id?: string | null
          conversation_id?: string
          created_at?: string
          data?: Json | null
          deleted_at?: string | null
          deleted_by?: string | null
          duration_ms?: number | null
          edited_at?: string | null
          id?: string
          kind?: string
          remind_at?: string | null
          reminded_at?: string | null
          reply_to?: string | null
          sender_id?: string | null
          seq?: number
          shared_event_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "messages_conversation_id_fkey"
            columns: ["conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_deleted_by_fkey"
            columns: ["deleted_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_reply_to_fkey"
            columns: ["reply_to"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_sender_id_fkey"
            columns: ["sender_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_shared_event_id_fkey"
            columns: ["shared_event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
        ]
      }
      notification_preferences: {
        Row: {
          channel: string
          enabled: boolean
          type: string
          updated_at: string
          user_id: string
        }
        Insert: {
          channel: string
          enabled: boolean
          type: string
          updated_at?: string
          user_id: string
        }
        Update: {
          channel?: string
          enabled?: boolean
          type?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notification_preferences_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      notification_settings: {
        Row: {
          created_at: string
          email_suppressed_at: string | null
          email_suppressed_reason: string | null
          phone_e164: string | null
          phone_updated_at: string | null
          phone_verified_at: string | null
          quiet_hours_end: string | null
          quiet_hours_start: string | null
          updated_at: string
          user_id: string
          whatsapp_fallback: string
          whatsapp_opt_in_at: string | null
        }
        Insert: {
          created_at?: string
          email_suppressed_at?: string | null
          email_suppressed_reason?: string | null
          phone_e164?: string | null
          phone_updated_at?: string | null
          phone_verified_at?: string | null
          quiet_hours_end?: string | null
          quiet_hours_start?: string | null
          updated_at?: string
          user_id: string
          whatsapp_fallback?: string
          whatsapp_opt_in_at?: string | null
        }
        Update: {
          created_at?: string
          email_suppressed_at?: string | null
          email_suppressed_reason?: string | null
          phone_e164?: string | null
          phone_updated_at?: string | null
          phone_verified_at?: string | null
          quiet_hours_end?: string | null
          quiet_hours_start?: string | null
          updated_at?: string
          user_id?: string
          whatsapp_fallback?: string
          whatsapp_opt_in_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "notification_settings_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      notifications: {
        Row: {
          body: string | null
          created_at: string
          data: NonNullable<Json>
          id: string
          read_at: string | null
          title: string
          type: string
          user_id: string
        }
        Insert: {
          body?: string | null
          created_at?: string
          data?: NonNullable<Json>
          id?: string
          read_at?: string | null
          title: string
          type: string
          user_id: string
        }
        Update: {
          body?: string | null
          created_at?: string
          data?: NonNullable<Json>
          id?: string
          read_at?: string | null
          title?: string
          type?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "notifications_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      payout_schedules: {
        Row: {
          created_at: string
          host_id: string
          interval: string
          last_outcome: string | null
          last_run_at: string | null
          monthly_anchor: number | null
          next_run_at: string | null
          updated_at: string
          weekly_anchor: string | null
        }
        Insert: {
          created_at?: string
          host_id: string
          interval?: string
          last_outcome?: string | null
          last_run_at?: string | null
          monthly_anchor?: number | null
          next_run_at?: string | null
          updated_at?: string
          weekly_anchor?: string | null
        }
        Update: {
          created_at?: string
          host_id?: string
          interval?: string
          last_outcome?: string | null
          last_run_at?: string | null
          monthly_anchor?: number | null
          next_run_at?: string | null
          updated_at?: string
          weekly_anchor?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "payout_schedules_host_id_fkey"
            columns: ["host_id"]
            isOneToOne: true
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      profiles: {
        Row: {
          avatar_path: string | null
          bio: string | null
          city: string | null
          created_at: string
          deleted_at: string | null
          display_name: string
          followers_count: number
          following_count: number
          hide_attendance: boolean
          host_status: string
          id: string
          is_host: boolean
          locale: string
          payouts_enabled: boolean
          rating_average: number | null
          rating_count: number
          rating_sum: number
          timezone: string
          updated_at: string
          username: string
        }
        Insert: {
          avatar_path?: string | null
          bio?: string | null
          city?: string | null
          created_at?: string
          deleted_at?: string | null
          display_name: string
          followers_count?: number
          following_count?: number
          hide_attendance?: boolean
          host_status?: string
          id: string
          is_host?: boolean
          locale?: string
          payouts_enabled?: boolean
          rating_average?: never
          rating_count?: number
          rating_sum?: number
          timezone?: string
          updated_at?: string
          username: string
        }
        Update: {
          avatar_path?: string | null
          bio?: string | null
          city?: string | null
          created_at?: string
          deleted_at?: string | null
          display_name?: string
          followers_count?: number
          following_count?: number
          hide_attendance?: boolean
          host_status?: string
          id?: string
          is_host?: boolean
          locale?: string
          payouts_enabled?: boolean
          rating_average?: never
          rating_count?: number
          rating_sum?: number
          timezone?: string
          updated_at?: string
          username?: string
        }
        Relationships: []
      }
      promo_codes: {
        Row: {
          active: boolean
          amount_off_cents: number | null
          code: string
          created_at: string
          created_by: string | null
          currency: string | null
          event_id: string
          id: string
          max_redemptions: number | null
          per_guest_limit: number | null
          percent_off: number | null
          ticket_type_id: string | null
          updated_at: string
          valid_from: string | null
          valid_until: string | null
          redeemed: number | null
        }
        Insert: {
          active?: boolean
          amount_off_cents?: number | null
          code: string
          created_at?: string
          created_by?: string | null
          currency?: string | null
          event_id: string
          id?: string
          max_redemptions?: number | null
          per_guest_limit?: number | null
          percent_off?: number | null
          ticket_type_id?: string | null
          updated_at?: string
          valid_from?: string | null
          valid_until?: string | null
        }
        Update: {
          active?: boolean
          amount_off_cents?: number | null
          code?: string
          created_at?: string
          created_by?: string | null
          currency?: string | null
          event_id?: string
          id?: string
          max_redemptions?: number | null
          per_guest_limit?: number | null
          percent_off?: number | null
          ticket_type_id?: string | null
          updated_at?: string
          valid_from?: string | null
          valid_until?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "promo_codes_created_by_fkey"
            columns: ["created_by"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "promo_codes_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "promo_codes_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "promo_codes_ticket_type_id_fkey"
            columns: ["ticket_type_id"]
            isOneToOne: false
            referencedRelation: "ticket_types"
            referencedColumns: ["id"]
          },
        ]
      }
      push_devices: {
        Row: {
          created_at: string
          id: string
          platform: string
          registered_at: string
          token: string
          user_id: string
        }
        Insert: {
          created_at?: string
          id?: string
          platform: string
          registered_at?: string
          token: string
          user_id: string
        }
        Update: {
          created_at?: string
          id?: string
          platform?: string
          registered_at?: string
          token?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "push_devices_user_id_fkey"
            columns: ["user_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      reviews: {
        Row: {
          author_id: string
          body: string | null
          booking_id: string
          created_at: string
          event_id: string
          host_id: string
          host_replied_at: string | null
          host_reply: string | null
          id: string
          rating: number
          updated_at: string
        }
        Insert: {
          author_id: string
          body?: string | null
          booking_id: string
          created_at?: string
          event_id: string
          host_id: string
          host_replied_at?: string | null
          host_reply?: string | null
          id?: string
          rating: number
          updated_at?: string
        }
        Update: {
          author_id?: string
          body?: string | null
          booking_id?: string
          created_at?: string
          event_id?: string
          host_id?: string
          host_replied_at?: string | null
          host_reply?: string | null
          id?: string
          rating?: number
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "reviews_author_id_fkey"
            columns: ["author_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: true
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reviews_host_id_fkey"
            columns: ["host_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
        ]
      }
      ticket_types: {
        Row: {
          capacity: number
          created_at: string
          currency: string
          description: string | null
          event_id: string
          hidden: boolean
          id: string
          max_per_booking: number
          name: string
          position: number
          price_cents: number
          sales_end: string | null
          sales_start: string | null
          updated_at: string
          seats_left: number | null
        }
        Insert: {
          capacity: number
          created_at?: string
          currency: string
          description?: string | null
          event_id: string
          hidden?: boolean
          id?: string
          max_per_booking?: number
          name: string
          position?: number
          price_cents?: number
          sales_end?: string | null
          sales_start?: string | null
          updated_at?: string
        }
        Update: {
          capacity?: number
          created_at?: string
          currency?: string
          description?: string | null
          event_id?: string
          hidden?: boolean
          id?: string
          max_per_booking?: number
          name?: string
          position?: number
          price_cents?: number
          sales_end?: string | null
          sales_start?: string | null
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "ticket_types_currency_fkey"
            columns: ["currency"]
            isOneToOne: false
            referencedRelation: "currencies"
            referencedColumns: ["code"]
          },
          {
            foreignKeyName: "ticket_types_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
        ]
      }
      waitlist_entries: {
        Row: {
          booking_id: string | null
          created_at: string
          event_id: string
          guest_id: string
          id: string
          offer_expires_at: string | null
          offered_at: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        Insert: {
          booking_id?: string | null
          created_at?: string
          event_id: string
          guest_id: string
          id?: string
          offer_expires_at?: string | null
          offered_at?: string | null
          quantity: number
          status?: string
          ticket_type_id: string
          updated_at?: string
        }
        Update: {
          booking_id?: string | null
          created_at?: string
          event_id?: string
          guest_id?: string
          id?: string
          offer_expires_at?: string | null
          offered_at?: string | null
          quantity?: number
          status?: string
          ticket_type_id?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "waitlist_entries_booking_id_fkey"
            columns: ["booking_id"]
            isOneToOne: false
            referencedRelation: "bookings"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "waitlist_entries_event_id_fkey"
            columns: ["event_id"]
            isOneToOne: false
            referencedRelation: "events"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "waitlist_entries_guest_id_fkey"
            columns: ["guest_id"]
            isOneToOne: false
            referencedRelation: "profiles"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "waitlist_entries_ticket_type_id_fkey"
            columns: ["ticket_type_id"]
            isOneToOne: false
            referencedRelation: "ticket_types"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Views: {
      events: {
        Row: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }
        Insert: {
          address?: string | null
          cancel_reason?: string | null
          cancelled_at?: string | null
          category?: string | null
          city?: string | null
          completed_at?: string | null
          cover_path?: string | null
          created_at?: string | null
          description?: string | null
          ends_at?: string | null
          host_id?: string | null
          id?: string | null
          is_online?: boolean | null
          location?: unknown
          online_url?: string | null
          published_at?: string | null
          refund_policy?: string | null
          requires_approval?: boolean | null
          series_id?: string | null
          series_position?: number | null
          starts_at?: string | null
          status?: string | null
          timezone?: string | null
          title?: string | null
          updated_at?: string | null
          venue_name?: string | null
          visibility?: string | null
        }
        Update: {
          address?: string | null
          cancel_reason?: string | null
          cancelled_at?: string | null
          category?: string | null
          city?: string | null
          completed_at?: string | null
          cover_path?: string | null
          created_at?: string | null
          description?: string | null
          ends_at?: string | null
          host_id?: string | null
          id?: string | null
          is_online?: boolean | null
          location?: unknown
          online_url?: string | null
          published_at?: string | null
          refund_policy?: string | null
          requires_approval?: boolean | null
          series_id?: string | null
          series_position?: number | null
          starts_at?: string | null
          status?: string | null
          timezone?: string | null
          title?: string | null
          updated_at?: string | null
          venue_name?: string | null
          visibility?: string | null
        }
        Relationships: []
      }
      wallet_balances: {
        Row: {
          available_cents: number | null
          currency: string | null
          in_transit_cents: number | null
          paid_out_cents: number | null
          pending_cents: number | null
        }
        Relationships: []
      }
    }
    Functions: {
      accept_booking_transfer: {
        Args: { p_transfer_id: string }
        Returns: {
          booking_id: string
          created_at: string
          event_id: string
          expires_at: string
          from_user_id: string
          id: string
          responded_at: string | null
          seat_no: number | null
          status: string
          to_user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_transfers"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      accept_group_invitation: {
        Args: { p_invitation_id: string }
        Returns: {
          added_by: string | null
          conversation_id: string
          joined_at: string
          last_read_at: string | null
          last_read_message_id: string | null
          last_read_seq: number
          muted: boolean
          notified_at: string | null
          notified_seq: number
          role: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "conversation_members"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      accept_waitlist_offer: {
        Args: { p_booking_id: string }
        Returns: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      add_conversation_members: {
        Args: { p_conversation_id: string; p_user_ids: string[] }
        Returns: {
          added_by: string | null
          conversation_id: string
          joined_at: string
          last_read_at: string | null
          last_read_message_id: string | null
          last_read_seq: number
          muted: boolean
          notified_at: string | null
          notified_seq: number
          role: string
          user_id: string
        }[]
        SetofOptions: {
          from: "*"
          to: "conversation_members"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      admin_dashboard: {
        Args: { p_limit?: number; p_view: string }
        Returns: Json
      }
      admin_dashboards: {
        Args: Record<PropertyKey, never>
        Returns: {
          description: string
          name: string
        }[]
      }
      admin_delete_account: {
        Args: { p_confirm_username: string; p_user_id: string }
        Returns: Json
      }
      admin_refund_booking: {
        Args: {
          p_amount_cents?: number
          p_booking_id: string
          p_reason: string
        }
        Returns: {
          amount_cents: number
          booking_id: string
          currency: string
          refund_id: string
          status: string
        }[]
      }
      admin_resolve_report: {
        Args: { p_reason: string; p_report_id: string; p_status: string }
        Returns: number
      }
      admin_retry_dead_letter: {
        Args: { p_id: string; p_kind: string; p_reason: string }
        Returns: string
      }
      admin_suspend_user: {
        Args: { p_reason: string; p_user_id: string }
        Returns: {
          banned_until: string
          host_status: string
          suspended: boolean
          user_id: string
        }[]
      }
      admin_unsuspend_user: {
        Args: { p_reason: string; p_user_id: string }
        Returns: {
          banned_until: string
          host_status: string
          suspended: boolean
          user_id: string
        }[]
      }
      approve_booking: {
        Args: { p_booking_id: string }
        Returns: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      become_host: {
        Args: Record<PropertyKey, never>
        Returns: {
          avatar_path: string | null
          bio: string | null
          city: string | null
          created_at: string
          deleted_at: string | null
          display_name: string
          followers_count: number
          following_count: number
          hide_attendance: boolean
          host_status: string
          id: string
          is_host: boolean
          locale: string
          payouts_enabled: boolean
          rating_average: number | null
          rating_count: number
          rating_sum: number
          timezone: string
          updated_at: string
          username: string
        }
        SetofOptions: {
          from: "*"
          to: "profiles"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      block_user: {
        Args: { p_user_id: string }
        Returns: {
          blocked_id: string
          blocker_id: string
          created_at: string
        }
        SetofOptions: {
          from: "*"
          to: "blocks"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      book_event: {
        Args: {
          p_event_id: string
          p_idempotency_key?: string
          p_promo_code?: string
          p_quantity?: number
          p_share_code?: string
          p_ticket_type_id: string
        }
        Returns: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_booking: {
        Args: { p_booking_id: string }
        Returns: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_booking_transfer: {
        Args: { p_transfer_id: string }
        Returns: {
          booking_id: string
          created_at: string
          event_id: string
          expires_at: string
          from_user_id: string
          id: string
          responded_at: string | null
          seat_no: number | null
          status: string
          to_user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_transfers"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      cancel_event: {
        Args: { p_event_id: string; p_reason?: string }
        Returns: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "events"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      cancel_event_occurrences: {
        Args: { p_event_id: string; p_reason?: string; p_scope?: string }
        Returns: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "events"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      change_event_details: {
        Args: {
          p_address?: string
          p_city?: string
          p_ends_at?: string
          p_event_id: string
          p_lat?: number
          p_lng?: number
          p_online_url?: string
          p_reason?: string
          p_starts_at?: string
          p_timezone?: string
          p_venue_name?: string
        }
        Returns: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "events"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      change_event_occurrences: {
        Args: {
          p_address?: string
          p_city?: string
          p_end_time?: string
          p_event_id: string
          p_lat?: number
          p_lng?: number
          p_online_url?: string
          p_reason?: string
          p_scope?: string
          p_start_time?: string
          p_venue_name?: string
        }
        Returns: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "events"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      check_in: {
        Args: { p_code: string }
        Returns: {
          attendee_name: string
          booking_id: string
          checked_in_at: string
          display_name: string
          event_id: string
          guest_id: string
          quantity: number
          seat_no: number
          ticket_type: string
          username: string
        }[]
      }
      conversation_messages: {
        Args: { p_before?: string; p_conversation_id: string; p_limit?: number }
        Returns: {
          attachment_path: string
          body: string
          client_id: string
          conversation_id: string
          created_at: string
          data: Json
          deleted_at: string
          duration_ms: number
          edited_at: string
          id: string
          kind: string
          reactions: Json
          remind_at: string
          reply_preview: Json
          reply_to: string
          sender_id: string
          seq: number
          shared_event_id: string
        }[]
      }
      create_calendar_feed: {
        Args: Record<PropertyKey, never>
        Returns: {
          created_at: string
          path: string
          token: string
        }[]
      }
      create_group_conversation: {
        Args: { p_member_ids?: string[]; p_title: string }
        Returns: {
          created_at: string
          created_by: string | null
          direct_user_high: string | null
          direct_user_low: string | null
          event_id: string | null
          id: string
          kind: string
          last_activity_at: string
          last_message_at: string | null
          last_seq: number
          title: string | null
        }
        SetofOptions: {
          from: "*"
          to: "conversations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      create_invite_link: {
        Args: { p_event_id: string; p_expires_at?: string; p_max_uses?: number }
        Returns: {
          created_at: string
          created_by: string | null
          event_id: string
          expires_at: string | null
          id: string
          max_uses: number | null
          revoked_at: string | null
          token: string
          uses: number
        }
        SetofOptions: {
          from: "*"
          to: "event_invite_links"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      create_share_link: {
        Args: { p_event_id: string }
        Returns: {
          code: string
          created_at: string
          event_id: string
        }[]
      }
      custom_access_token_hook: { Args: { event: Json }; Returns: Json }
      decline_booking: {
        Args: { p_booking_id: string }
        Returns: {
          amount_cents: number
          cancel_reason: string | null
          cancelled_at: string | null
          cancelled_by: string | null
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          confirmed_at: string | null
          created_at: string
          currency: string
          discount_cents: number
          event_id: string
          guest_id: string
          hold_expires_at: string | null
          id: string
          idempotency_key: string | null
          list_amount_cents: number | null
          promo_code_id: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "bookings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      decline_booking_transfer: {
        Args: { p_transfer_id: string }
        Returns: {
          booking_id: string
          created_at: string
          event_id: string
          expires_at: string
          from_user_id: string
          id: string
          responded_at: string | null
          seat_no: number | null
          status: string
          to_user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_transfers"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      decline_group_invitation: {
        Args: { p_invitation_id: string }
        Returns: {
          conversation_id: string
          created_at: string
          expires_at: string
          id: string
          invited_by: string | null
          responded_at: string | null
          status: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "group_invitations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      decline_invitation: {
        Args: { p_event_id: string }
        Returns: {
          created_at: string
          event_id: string
          id: string
          invite_link_id: string | null
          invited_by: string | null
          notified_at: string | null
          responded_at: string | null
          status: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "event_invitations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      delete_message: {
        Args: { p_message_id: string }
        Returns: {
          attachment_path: string | null
          body: string | null
          client_id: string | null
          conversation_id: string
          created_at: string
          data: Json | null
          deleted_at: string | null
          deleted_by: string | null
          duration_ms: number | null
          edited_at: string | null
          id: string
          kind: string
          remind_at: string | null
          reminded_at: string | null
          reply_to: string | null
          sender_id: string | null
          seq: number
          shared_event_id: string | null
        }
        SetofOptions: {
          from: "*"
          to: "messages"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      delete_my_account: { Args: { p_confirm_username: string }; Returns: Json }
      edit_message: {
        Args: { p_body: string; p_message_id: string }
        Returns: {
          attachment_path: string | null
          body: string | null
          client_id: string | null
          conversation_id: string
          created_at: string
          data: Json | null
          deleted_at: string | null
          deleted_by: string | null
          duration_ms: number | null
          edited_at: string | null
          id: string
          kind: string
          remind_at: string | null
          reminded_at: string | null
          reply_to: string | null
          sender_id: string | null
          seq: number
          shared_event_id: string | null
        }
        SetofOptions: {
          from: "*"
          to: "messages"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      event_feed: {
        Args: { p_cursor?: string; p_limit?: number }
        Returns: {
          category: string
          city: string
          cover_path: string
          currency: string
          cursor: string
          ends_at: string
          friends_going: number
          host_id: string
          id: string
          is_online: boolean
          min_price_cents: number
          reason: string
          starts_at: string
          timezone: string
          title: string
          venue_name: string
        }[]
      }
      follow_user: {
        Args: { p_user_id: string }
        Returns: {
          created_at: string
          followee_id: string
          follower_id: string
        }
        SetofOptions: {
          from: "*"
          to: "follows"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      followers_of: {
        Args: { p_cursor?: string; p_limit?: number; p_user_id: string }
        Returns: {
          avatar_path: string
          cursor: string
          display_name: string
          followed_at: string
          followed_by_me: boolean
          user_id: string
          username: string
        }[]
      }
      following_of: {
        Args: { p_cursor?: string; p_limit?: number; p_user_id: string }
        Returns: {
          avatar_path: string
          cursor: string
          display_name: string
          followed_at: string
          followed_by_me: boolean
          user_id: string
          username: string
        }[]
      }
      friends_going: {
        Args: { p_event_id: string; p_limit?: number }
        Returns: {
          avatar_path: string
          display_name: string
          user_id: string
          username: string
        }[]
      }
      host_event_stats: {
        Args: { p_event_id?: string }
        Returns: {
          announcement_reach: number
          announcements: number
          bookings: number
          conversion: number
          currency: string
          event_id: string
          followers_notified: number
          revenue_cents: number
          share_bookings: number
          share_views: number
          shares: number
          signed_in_viewers: number
          starts_at: string
          status: string
          tickets: number
          title: string
          views: number
        }[]
      }
      invite_to_event: {
        Args: { p_event_id: string; p_user_ids: string[] }
        Returns: {
          status: string
          user_id: string
        }[]
      }
      join_waitlist: {
        Args: {
          p_event_id: string
          p_quantity?: number
          p_ticket_type_id: string
        }
        Returns: {
          booking_id: string | null
          created_at: string
          event_id: string
          guest_id: string
          id: string
          offer_expires_at: string | null
          offered_at: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "waitlist_entries"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      leave_conversation: {
        Args: { p_conversation_id: string }
        Returns: undefined
      }
      leave_waitlist: {
        Args: { p_event_id: string }
        Returns: {
          booking_id: string | null
          created_at: string
          event_id: string
          guest_id: string
          id: string
          offer_expires_at: string | null
          offered_at: string | null
          quantity: number
          status: string
          ticket_type_id: string
          updated_at: string
        }
        SetofOptions: {
          from: "*"
          to: "waitlist_entries"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      mark_conversation_read: {
        Args: { p_conversation_id: string; p_message_id?: string }
        Returns: {
          conversation_id: string
          last_read_message_id: string
          unread_count: number
        }[]
      }
      mark_notifications_read: { Args: { p_ids?: string[] }; Returns: number }
      my_account_deletion_obstacles: {
        Args: Record<PropertyKey, never>
        Returns: {
          code: string
          count: number
          message: string
        }[]
      }
      my_alert_deliveries: {
        Args: { p_cursor?: string; p_limit?: number }
        Returns: {
          attempts: number
          channel: string
          created_at: string
          cursor: string
          delivered_at: string
          destination: string
          device_platform: string
          fallback_of: string
          finished_at: string
          id: string
          next_attempt_at: string
          notification_id: string
          reason: string
          sent_at: string
          status: string
          title: string
          type: string
        }[]
      }
      my_conversations: {
        Args: { p_cursor?: string; p_limit?: number }
        Returns: {
          conversation_id: string
          cursor: string
          event_id: string
          kind: string
          last_activity_at: string
          last_message: Json
          muted: boolean
          other_user_id: string
          role: string
          title: string
          unread_count: number
        }[]
      }
      my_group_invitations: {
        Args: Record<PropertyKey, never>
        Returns: {
          conversation_id: string
          created_at: string
          expires_at: string
          id: string
          invited_by: string
          invited_by_name: string
          member_count: number
          title: string
        }[]
      }
      my_notification_preferences: {
        Args: Record<PropertyKey, never>
        Returns: {
          category: string
          channel: string
          critical: boolean
          description: string
          enabled: boolean
          is_default: boolean
          locked: boolean
          type: string
        }[]
      }
      my_notifications: {
        Args: { p_cursor?: string; p_limit?: number; p_unread_only?: boolean }
        Returns: {
          body: string
          created_at: string
          cursor: string
          data: Json
          id: string
          read_at: string
          title: string
          type: string
        }[]
      }
      name_attendees: {
        Args: { p_booking_id: string; p_names: Json }
        Returns: {
          attendee_name: string | null
          booking_id: string
          check_in_code: string
          checked_in_at: string | null
          checked_in_by: string | null
          created_at: string
          event_id: string
          holder_id: string | null
          seat_no: number
          updated_at: string
        }[]
        SetofOptions: {
          from: "*"
          to: "booking_seats"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      preview_promo_code: {
        Args: { p_code: string; p_event_id: string }
        Returns: {
          code: string
          currency: string
          description: string
          discount_cents: number
          final_price_cents: number
          hidden: boolean
          max_per_booking: number
          name: string
          price_cents: number
          seats_left: number
          ticket_type_id: string
          uses_left: number
          valid_until: string
        }[]
      }
      promote_event: {
        Args: { p_event_id: string }
        Returns: {
          event_id: string
          followers: number
          job_id: string
          next_promotion_at: string
        }[]
      }
      publish_event: {
        Args: { p_event_id: string }
        Returns: {
          address: string | null
          cancel_reason: string | null
          cancelled_at: string | null
          category: string | null
          city: string | null
          completed_at: string | null
          cover_path: string | null
          created_at: string | null
          description: string | null
          ends_at: string | null
          host_id: string | null
          id: string | null
          is_online: boolean | null
          location: unknown
          online_url: string | null
          published_at: string | null
          refund_policy: string | null
          requires_approval: boolean | null
          series_id: string | null
          series_position: number | null
          starts_at: string | null
          status: string | null
          timezone: string | null
          title: string | null
          updated_at: string | null
          venue_name: string | null
          visibility: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "events"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      record_event_view: {
        Args: { p_event_id: string; p_share_code?: string }
        Returns: boolean
      }
      redeem_invite_link: {
        Args: { p_token: string }
        Returns: {
          created_at: string
          event_id: string
          id: string
          invite_link_id: string | null
          invited_by: string | null
          notified_at: string | null
          responded_at: string | null
          status: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "event_invitations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      redeemed: {
        Args: { "": Database["public"]["Tables"]["promo_codes"]["Row"] }
        Returns: {
          error: true
        } & "the function public.redeemed with parameter or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache"
      }
      refund_quote: {
        Args: { p_booking_id: string }
        Returns: {
          amount_cents: number
          booking_id: string
          cancelled_by_host: boolean
          currency: string
          full_refund_until: string
          partial_refund_until: string
          refund_percent: number
          refund_policy: string
          refundable_cents: number
        }[]
      }
      register_push_device: {
        Args: { p_platform: string; p_token: string }
        Returns: {
          created_at: string
          id: string
          platform: string
          registered_at: string
          token: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "push_devices"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      remove_conversation_member: {
        Args: { p_conversation_id: string; p_user_id: string }
        Returns: boolean
      }
      report_content: {
        Args: { p_id: string; p_kind: string; p_reason: string }
        Returns: string
      }
      request_payout: {
        Args: { p_amount_cents: number; p_currency: string }
        Returns: {
          amount_cents: number
          currency: string
          payout_id: string
          requested_at: string
          status: string
        }[]
      }
      revoke_calendar_feed: {
        Args: Record<PropertyKey, never>
        Returns: boolean
      }
      revoke_invitation: {
        Args: { p_event_id: string; p_user_id: string }
        Returns: {
          created_at: string
          event_id: string
          id: string
          invite_link_id: string | null
          invited_by: string | null
          notified_at: string | null
          responded_at: string | null
          status: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "event_invitations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      revoke_invite_link: {
        Args: { p_link_id: string }
        Returns: {
          created_at: string
          created_by: string | null
          event_id: string
          expires_at: string | null
          id: string
          max_uses: number | null
          revoked_at: string | null
          token: string
          uses: number
        }
        SetofOptions: {
          from: "*"
          to: "event_invite_links"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      search_events: {
        Args: {
          p_category?: string
          p_cursor?: string
          p_lat?: number
          p_limit?: number
          p_lng?: number
          p_max_price_cents?: number
          p_query?: string
          p_radius_km?: number
          p_starts_after?: string
          p_starts_before?: string
        }
        Returns: {
          category: string
          city: string
          cover_path: string
          currency: string
          cursor: string
          description: string
          distance_km: number
          ends_at: string
          host_id: string
          id: string
          is_online: boolean
          location: unknown
          min_price_cents: number
          refund_policy: string
          relevance: number
          requires_approval: boolean
          starts_at: string
          timezone: string
          title: string
          venue_name: string
        }[]
      }
      seats_left: {
        Args: { "": Database["public"]["Tables"]["ticket_types"]["Row"] }
        Returns: {
          error: true
        } & "the function public.seats_left with parameter or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache"
      }
      send_event_announcement: {
        Args: {
          p_body: string
          p_event_id: string
          p_include_waitlist?: boolean
          p_title: string
        }
        Returns: {
          chat_message_id: string
          created_at: string
          event_id: string
          id: string
          recipients: number
        }[]
      }
      send_message: {
        Args: {
          p_attachment_path?: string
          p_body?: string
          p_client_id?: string
          p_conversation_id: string
          p_duration_ms?: number
          p_kind?: string
          p_remind_at?: string
          p_reply_to?: string
          p_shared_event_id?: string
        }
        Returns: {
          attachment_path: string | null
          body: string | null
          client_id: string | null
          conversation_id: string
          created_at: string
          data: Json | null
          deleted_at: string | null
          deleted_by: string | null
          duration_ms: number | null
          edited_at: string | null
          id: string
          kind: string
          remind_at: string | null
          reminded_at: string | null
          reply_to: string | null
          sender_id: string | null
          seq: number
          shared_event_id: string | null
        }
        SetofOptions: {
          from: "*"
          to: "messages"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_conversation_muted: {
        Args: { p_conversation_id: string; p_muted?: boolean }
        Returns: {
          added_by: string | null
          conversation_id: string
          joined_at: string
          last_read_at: string | null
          last_read_message_id: string | null
          last_read_seq: number
          muted: boolean
          notified_at: string | null
          notified_seq: number
          role: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "conversation_members"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_notification_preference: {
        Args: { p_channel: string; p_enabled: boolean; p_type: string }
        Returns: {
          channel: string
          enabled: boolean
          type: string
          updated_at: string
          user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "notification_preferences"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_payout_schedule: {
        Args: {
          p_interval: string
          p_monthly_anchor?: number
          p_weekly_anchor?: string
        }
        Returns: {
          created_at: string
          host_id: string
          interval: string
          last_outcome: string | null
          last_run_at: string | null
          monthly_anchor: number | null
          next_run_at: string | null
          updated_at: string
          weekly_anchor: string | null
        }[]
        SetofOptions: {
          from: "*"
          to: "payout_schedules"
          isOneToOne: false
          isSetofReturn: true
        }
      }
      set_phone_number: {
        Args: { p_phone: string }
        Returns: {
          created_at: string
          email_suppressed_at: string | null
          email_suppressed_reason: string | null
          phone_e164: string | null
          phone_updated_at: string | null
          phone_verified_at: string | null
          quiet_hours_end: string | null
          quiet_hours_start: string | null
          updated_at: string
          user_id: string
          whatsapp_fallback: string
          whatsapp_opt_in_at: string | null
        }
        SetofOptions: {
          from: "*"
          to: "notification_settings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_quiet_hours: {
        Args: { p_end: string; p_start: string }
        Returns: {
          created_at: string
          email_suppressed_at: string | null
          email_suppressed_reason: string | null
          phone_e164: string | null
          phone_updated_at: string | null
          phone_verified_at: string | null
          quiet_hours_end: string | null
          quiet_hours_start: string | null
          updated_at: string
          user_id: string
          whatsapp_fallback: string
          whatsapp_opt_in_at: string | null
        }
        SetofOptions: {
          from: "*"
          to: "notification_settings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      set_user_admin: {
        Args: { p_is_admin: boolean; p_user_id: string }
        Returns: Json
      }
      set_whatsapp_opt_in: {
        Args: { p_fallback?: string; p_opt_in: boolean }
        Returns: {
          created_at: string
          email_suppressed_at: string | null
          email_suppressed_reason: string | null
          phone_e164: string | null
          phone_updated_at: string | null
          phone_verified_at: string | null
          quiet_hours_end: string | null
          quiet_hours_start: string | null
          updated_at: string
          user_id: string
          whatsapp_fallback: string
          whatsapp_opt_in_at: string | null
        }
        SetofOptions: {
          from: "*"
          to: "notification_settings"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      start_direct_conversation: {
        Args: { p_user_id: string }
        Returns: {
          created_at: string
          created_by: string | null
          direct_user_high: string | null
          direct_user_low: string | null
          event_id: string | null
          id: string
          kind: string
          last_activity_at: string
          last_message_at: string | null
          last_seq: number
          title: string | null
        }
        SetofOptions: {
          from: "*"
          to: "conversations"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      transfer_booking: {
        Args: { p_booking_id: string; p_seat_no?: number; p_to_user_id: string }
        Returns: {
          booking_id: string
          created_at: string
          event_id: string
          expires_at: string
          from_user_id: string
          id: string
          responded_at: string | null
          seat_no: number | null
          status: string
          to_user_id: string
        }
        SetofOptions: {
          from: "*"
          to: "booking_transfers"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      unblock_user: { Args: { p_user_id: string }; Returns: boolean }
      unfollow_user: { Args: { p_user_id: string }; Returns: boolean }
      unread_notification_count: {
        Args: Record<PropertyKey, never>
        Returns: number
      }
      unregister_push_device: { Args: { p_token: string }; Returns: boolean }
      verify_phone_number: {
        Args: { p_code: string }
        Returns: {
          attempts_left: number
          phone_e164: string
          phone_verified_at: string
          verified: boolean
        }[]
      }
      wallet_activity: {
        Args: { p_cursor?: string; p_limit?: number }
        Returns: {
          amount_cents: number
          balance: string
          booking_id: string
          created_at: string
          currency: string
          cursor: string
          entry_id: number
          event_id: string
          kind: string
          payout_id: string
        }[]
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

